"""Inference providers: one narrow interface (base.Provider), several ways to reach a model.

`grpc_provider.GrpcProvider` talks to the nejumi inference service; `backend_provider.BackendProvider` calls an
HTTP API (OpenAI, Anthropic, ...) in-process. Import them from their modules: the latter loads vendor SDKs.
"""
