"""nejumi's gRPC inference service (nejumi.v1.Inference) over llama.cpp, vLLM, OpenAI-compatible APIs or a script.

Run it with ``python -m nejumi_inference --backend ... --model ...``; start it from another Python program with
``nejumi_inference.launcher.start_server_process``.
"""
