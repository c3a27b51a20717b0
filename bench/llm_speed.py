"""How fast the local model reads a prompt and writes tokens on this machine.

Time to the first answer token is prompt length ÷ reading speed, so this number decides how much
evidence fits a latency budget. Usage: ``python -m bench.llm_speed [--preset qwen1.5b] [--tokens 500]``.
"""

from __future__ import annotations

import argparse
import time

from qa.components.llamacpp_chat import load_llama
from qa.components.model_files import model_path
from qa.settings import load_settings


def measure(preset: str, prompt_tokens: int, new_tokens: int = 40) -> dict[str, float]:
    """Prompt tokens/s and generation tokens/s for ``preset`` with the configured threads and batch."""
    s = load_settings()
    llama = load_llama(str(model_path(preset, s.model_cache)), s.n_ctx, s.n_batch, s.llm_threads)
    prompt = " ".join(["The border crossing at Taftan stayed open for trade."] * (prompt_tokens // 11 + 1))
    tokens = llama.tokenize(prompt.encode())[:prompt_tokens]
    llama.reset()
    t0 = time.perf_counter()
    llama.eval(tokens)
    read = time.perf_counter() - t0
    llama.reset()
    t1 = time.perf_counter()
    out = llama("Once upon a time, a cat", max_tokens=new_tokens, temperature=0.0)  # a small model ends an instruction at once
    wrote = out["usage"]["completion_tokens"]
    gen = time.perf_counter() - t1
    return {"prompt_tokens": len(tokens), "read_s": read, "read_tok_s": len(tokens) / read,
            "new_tokens": wrote, "write_tok_s": wrote / gen}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="qwen1.5b")
    ap.add_argument("--tokens", type=int, default=500)
    args = ap.parse_args()
    r = measure(args.preset, args.tokens)
    print(f"{args.preset}: reads {r['prompt_tokens']} prompt tokens in {r['read_s']:.1f} s = {r['read_tok_s']:.0f} tok/s; "
          f"writes {r['write_tok_s']:.1f} tok/s ({r['new_tokens']} tokens)")


if __name__ == "__main__":
    main()
