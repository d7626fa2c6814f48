"""The pieces of `make bench` and `make bench-peers` (scripts/bench.py, scripts/bench_peers.py).

processes: starting and stopping what a run needs; compare_runs: compare.py A/B runs and their
statistics; policy: the full-policy system on Redis; memory: RSS of the supervisor and each worker
over 100k calls; ttft: time to first token, open loop; translation: CPU per request of the
Anthropic and Gemini adapters against the OpenAI passthrough; phases: PII, search and tracing
benchmarks run in processes of their own; targets, report, docfile: the markdown.
"""
