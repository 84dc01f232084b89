"""Inference providers: one narrow interface (base.Provider), several ways to reach a model.

`grpc_provider.GrpcProvider` talks to the nejumi inference service; `openai_provider.OpenAIProvider` calls an
OpenAI-compatible API in-process. Import them from their modules: the OpenAI one loads the openai package.
"""
