"""Prompt-lookup drafting for the reader's writing: is it faster on this host than writing token by token?

    python -m bench.prompt_lookup [--corpus seeds] [--limit 12] [--drafts 3 8] [--rounds 2]

An answer copies words of the evidence it read, so the tokens after the last two written ones' earlier
occurrence in the prompt are a guess at what comes next (llama-cpp-python's ``LlamaPromptLookupDecoding``).
Here each written token is read in one batch with up to N such guesses, every row's logits kept; a guess
stands while it is what greedy choice under the answer grammar writes. The reader's prompts are built as
an answer builds them (the lead and all the evidence) and written qa's way and drafted, in turn, in one
process (:mod:`bench.grammar_sampling`). Prints the seconds spent writing, the guesses kept, the cost of
a batch against one pass and the drafts identical to qa's.
"""

from __future__ import annotations

import argparse
import ctypes
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

from bench.grammar_sampling import reader_prompts, write_all
from qa.components import llamacpp_chat

COUNTS: Counter[str] = Counter()  # guessed, kept, batches, passes


def guess(context: list[int], size: int, ngram: int = 2) -> list[int]:
    """The ``size`` tokens that followed the last earlier occurrence of the context's final ``ngram`` tokens."""
    tail = context[-ngram:]
    for i in range(len(context) - ngram - 1, -1, -1):
        if context[i:i + ngram] == tail:
            return context[i + ngram:i + ngram + size][:len(context) - i - ngram]
    return []


def read_rows(llama: Any, tokens: list[int]) -> Any:
    """Read ``tokens`` after the context in one batch; the logits of every row."""
    import numpy as np

    llama._ctx.kv_cache_seq_rm(-1, llama.n_tokens, -1)
    llama._batch.set_batch(batch=tokens, n_past=llama.n_tokens, logits_all=True)
    llama._ctx.decode(llama._batch)
    llama.input_ids[llama.n_tokens:llama.n_tokens + len(tokens)] = tokens
    llama.n_tokens += len(tokens)
    return np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(len(tokens), llama.n_vocab())).copy()


def drafted(size: int) -> Any:
    """A greedy writer (as :func:`qa.components.llamacpp_chat.greedy`) that reads up to ``size`` guesses with each token."""

    def write(llama: Any, grammar: Any) -> Iterator[int]:
        import llama_cpp as lc
        import numpy as np
        from llama_cpp._internals import LlamaTokenDataArray

        n_vocab = llama.n_vocab()
        rules = lc.llama_sampler_init_grammar(llama._model.vocab, grammar._grammar.encode(), grammar._root.encode())
        top = (lc.llama_token_data * 1)()
        one = lc.llama_token_data_array(data=top, size=1, selected=-1, sorted=False)
        every = LlamaTokenDataArray(n_vocab=n_vocab)
        context, ahead, rows = list(llama.input_ids[:llama.n_tokens]), [], []
        logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(n_vocab,)).copy()
        try:
            while True:  # the grammar asked about the top token first, as qa's greedy does
                token = int(np.argmax(logits))
                top[0].id, top[0].logit, top[0].p = token, float(logits[token]), 0.0
                one.size, one.selected = 1, -1
                lc.llama_sampler_apply(rules, ctypes.byref(one))
                if top[0].logit == -np.inf:
                    every.copy_logits(logits)
                    lc.llama_sampler_apply(rules, ctypes.byref(every.candidates))
                    token = int(np.argmax(every.candidates_data.logit))
                lc.llama_sampler_accept(rules, token)
                yield token
                context.append(token)
                if ahead and ahead[0] == token:
                    COUNTS["kept"] += 1
                    ahead.pop(0)
                    logits = rows.pop(0)
                    continue
                llama.n_tokens -= len(ahead)
                ahead = guess(context, size)
                COUNTS["guessed"] += len(ahead)
                COUNTS["batches" if ahead else "passes"] += 1
                if ahead:
                    logits, *rows = read_rows(llama, [token, *ahead])
                else:  # one pass, as qa's greedy reads
                    llama.eval([token])
                    logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(n_vocab,)).copy()
        finally:
            lc.llama_sampler_free(rules)

    return write


def main(argv: list[str] | None = None) -> int:
    """Write every prompt qa's way and drafted, for ``--rounds`` rounds; print the times and what was kept."""
    ap = argparse.ArgumentParser(prog="python -m bench.prompt_lookup", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="seeds", help="registered corpus (eval/corpora.toml)")
    ap.add_argument("--limit", type=int, default=12, help="the first N items")
    ap.add_argument("--drafts", type=int, nargs="+", default=[3, 8], help="guesses read with each token")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--registry", default="eval/corpora.toml")
    args = ap.parse_args(argv)

    from qa.errors import QAError

    try:
        pipeline, entry, prompts = reader_prompts(args.registry, args.corpus, args.limit)
    except QAError as exc:
        print(f"bench.prompt_lookup: error: {exc}", file=sys.stderr)
        return 2
    budget = pipeline.policy.answer_tokens
    print(f"{len(prompts)} readings of {args.limit} items of {entry.name}")
    print("| round | way | writing s | ratio to qa's | guesses kept | passes + batches | identical drafts |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in range(1, args.rounds + 1):
        base, ours = write_all(pipeline.llm, prompts, llamacpp_chat.greedy, budget)
        print(f"| {r} | qa (one token per pass) | {base:.2f} | 1.00x | | | |", flush=True)
        for size in args.drafts:
            COUNTS.clear()
            spent, theirs = write_all(pipeline.llm, prompts, drafted(size), budget)
            same = sum(x == y for x, y in zip(ours, theirs, strict=True))
            print(f"| {r} | up to {size} guesses | {spent:.2f} | {spent / base:.2f}x | {COUNTS['kept']} of "
                  f"{COUNTS['guessed']} | {COUNTS['passes']} + {COUNTS['batches']} | {same} of {len(ours)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
