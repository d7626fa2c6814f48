"""What translating to another provider family costs the gateway (issue 12: at most +15 % CPU per
request against the OpenAI passthrough).

One `aigw serve --workers 2` with a configuration file of four aliases: `bench-openai` (the OpenAI
adapter, a passthrough of the same wire format, on tests/support/mock_openai_family.py),
`bench-anthropic` (the Anthropic adapter on tests/support/mock_anthropic.py), `bench-gemini` (the
Gemini adapter, AI Studio, on tests/support/mock_gemini.py) and, for reference, `bench-openai-shared`
(the OpenAI adapter on ../shared/bench's mock), each mock a process of its own. The target compares
the translated families with the passthrough on the same mock framework (tests/support/mock_family:
the same aiohttp server, the same answer text planned from the same prompt), so what is measured is
the translation, not how two mock servers differ in framing, headers or speed. load.py sends the
same chat request (non-streamed) to each alias in turn at the same fixed rate, the order rotated each
round; the gateway's CPU per request is its process tree's CPU time only (the mocks' is not
counted), the median over rounds."""

from __future__ import annotations

from pathlib import Path

from benchlib.common import (
    GATEWAY_WORKERS,
    MASTER_KEY,
    BenchError,
    Result,
    chat_request,
    free_ports,
    log,
    med,
)
from benchlib.fixedrate import WARM_SECONDS, load_py, measure
from benchlib.processes import Processes, start_aigw, start_family_mock, start_shared_mock

TRANSLATION_RATE = 200
FAMILIES = ("openai", "anthropic", "gemini")
MEASURED = (*FAMILIES, "openai-shared")  # the last: the OpenAI adapter on the shared mock, for reference
FAMILY_KEY = "sk-bench-family-upstream"
CONFIG = """providers:
  - {{name: openai, type: openai, base_url: 'http://127.0.0.1:{openai}/v1', api_key_env: AI_PROVIDER_OPENAI_KEY}}
  - {{name: shared, type: openai, base_url: 'http://127.0.0.1:{shared}/v1', api_key_env: AI_PROVIDER_OPENAI_KEY}}
  - {{name: claude, type: anthropic, base_url: 'http://127.0.0.1:{anthropic}', api_key_env: AI_PROVIDER_CLAUDE_KEY}}
  - {{name: gemini, type: gemini, base_url: 'http://127.0.0.1:{gemini}/v1beta', api_key_env: AI_PROVIDER_GEMINI_KEY}}
models:
  bench-openai:
    - {{provider: openai, model: gpt-3.5-turbo}}
  bench-anthropic:
    - {{provider: claude, model: claude-sonnet-4-5}}
  bench-gemini:
    - {{provider: gemini, model: gemini-2.5-flash}}
  bench-openai-shared:
    - {{provider: shared, model: gpt-3.5-turbo}}
"""


def translation_phase(rounds: int, duration: float, bdir: Path, tmp: Path, procs: Processes) -> Result:
    openai_port, anthropic_port, gemini_port, shared_port, gw_port = free_ports(5)
    log(f"\n=== translation CPU at {TRANSLATION_RATE} req/s: {', '.join(MEASURED)} ({rounds} rounds of {duration:g} s)")
    config = tmp / "translation.yaml"
    config.write_text(
        CONFIG.format(openai=openai_port, anthropic=anthropic_port, gemini=gemini_port, shared=shared_port)
    )
    env = {
        "AI_STATE_DIR": str(tmp / "state-translation"),
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_CONFIG_FILE": str(config),
        "AI_PROVIDER_OPENAI_KEY": FAMILY_KEY,
        "AI_PROVIDER_CLAUDE_KEY": FAMILY_KEY,
        "AI_PROVIDER_GEMINI_KEY": FAMILY_KEY,
        "AI_LOG_LEVEL": "INFO",
    }
    started = [start_shared_mock(procs, bdir, shared_port)]
    try:
        for family, port in (("openai", openai_port), ("anthropic", anthropic_port), ("gemini", gemini_port)):
            started.append(start_family_mock(procs, family, port, FAMILY_KEY, tmp / f"mock-{family}.log"))
        gw = start_aigw(procs, gw_port, env, tmp / "translation-gateway.log", GATEWAY_WORKERS, tmp)
        started.append(gw)
        url = f"http://127.0.0.1:{gw_port}/v1/chat/completions"
        for family in MEASURED:
            status, headers, body = chat_request(url, model=f"bench-{family}")
            if status != 200:
                raise BenchError(f"translation: bench-{family} answered HTTP {status}: {body[:300]!r}")
            log(f"  bench-{family}: HTTP 200 from {headers.get('x-aigw-provider')}")
        for family in MEASURED:  # not counted: the first calls of a fresh process import and connect
            cmd = load_py(bdir, url, TRANSLATION_RATE, WARM_SECONDS, f"bench-{family}")
            measure(cmd, TRANSLATION_RATE, WARM_SECONDS, None, f"warm-up {family}")
        results: list[Result] = []
        for rnd in range(rounds):
            order = MEASURED[rnd % len(MEASURED) :] + MEASURED[: rnd % len(MEASURED)]
            row: Result = {}
            for family in order:
                cmd = load_py(bdir, url, TRANSLATION_RATE, duration, f"bench-{family}")
                row[family] = measure(cmd, TRANSLATION_RATE, duration, gw.pid, f"round {rnd + 1} {family}")
            results.append(row)
    finally:
        for p in reversed(started):
            procs.stop(p)
    out: Result = {"rate": TRANSLATION_RATE, "rounds": rounds, "duration": duration, "runs": results}
    for family in MEASURED:
        runs = [r[family] for r in results]
        out[family] = {
            "cpu_us": med(r["cpu_us_per_req"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
            "p50_ms": med(r["latency_ms"]["p50"] for r in runs),
            "rps": med(r["rps"] for r in runs),
        }
    log(f"translation: { {k: out[k] for k in MEASURED} }")
    return out
