"""A thin LangChain chat model over llama-cpp-python (replaces langchain-community's ChatLlamaCpp).

It loads a GGUF once per process and per path, uses a large ``n_batch`` (prompt reading is the
bottleneck on 2 cores), serialises calls with a lock (a llama.cpp context is not thread-safe),
and streams tokens.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

_MODELS: dict[tuple[str, int, int, int, str], Any] = {}
_MODELS_LOCK = threading.Lock()
_CALL_LOCKS: dict[int, threading.Lock] = {}


@atexit.register
def _close_models() -> None:
    """Free llama.cpp models before interpreter teardown (avoids noisy errors from late __del__)."""
    with _MODELS_LOCK:
        for llama in _MODELS.values():
            try:
                llama.close()
            except Exception:  # noqa: BLE001 - best effort at exit
                pass
        _MODELS.clear()


def load_llama(path: str, n_ctx: int, n_batch: int, n_threads: int, role: str = "") -> Any:
    """Load (once per process and ``role``) a llama.cpp model: each role's context keeps its own saved system prompt."""
    from llama_cpp import Llama

    key = (path, n_ctx, n_batch, n_threads, role)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = Llama(
                model_path=path,
                n_ctx=n_ctx,
                n_batch=n_batch,
                n_threads=n_threads or os.cpu_count() or 2,
                seed=0,
                verbose=False,
            )
            _CALL_LOCKS[id(_MODELS[key])] = threading.Lock()
        return _MODELS[key]


_FORMATTERS: dict[int, Any] = {}


def chat_prompt(llama: Any, messages: list[dict[str, str]]) -> str:
    """``messages`` in the model's own chat template (from the GGUF), as llama-cpp-python formats them."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    key = id(llama)
    if key not in _FORMATTERS:
        template = llama.metadata.get("tokenizer.chat_template") or _CHATML
        eos, bos = llama.token_eos(), llama.token_bos()
        _FORMATTERS[key] = Jinja2ChatFormatter(
            template=template,
            eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
        )
    return _FORMATTERS[key](messages=messages).prompt


_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _role(message: BaseMessage) -> str:
    return {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")


def _message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


_READ_TO: dict[int, int] = {}  # per model: where its last prompt ended (rows read as a prompt, never generated ones)
_KEEPS: dict[int, bool] = {}  # per model: whether rows kept in whole tiles give bit-identical logits on this host
_TILE, _MIN_BATCH = 4, 8  # llama.cpp's repacked CPU kernels take rows in tiles of 4, and batches under 8 otherwise


def _last_logits(llama: Any) -> Any:
    """The logits of the last row just read (a view into llama.cpp's buffer: copy what must outlive the next read)."""
    import numpy as np

    return np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))


def _batch(llama: Any) -> int:
    """Rows llama.cpp reads in one pass."""
    return min(llama.n_batch, llama.context_params.n_ubatch)


def _resume_at(llama: Any, tokens: list[int], pre: int) -> int:
    """Where reading ``tokens`` may start: after the system prompt, or further along the last prompt's rows where
    the two prompts agree (a wider reading after its lead shares its first passages), so far as the logits stay
    bit-identical to reading everything after the system prompt: rows kept in whole tiles, read on in the same
    batches as from the system prompt (the first at least ``_MIN_BATCH`` rows), on a host where :func:`_probe`
    found so."""
    n = _batch(llama)
    if not _KEEPS.get(id(llama)) or n % _TILE:
        return pre
    end, same = min(_READ_TO.get(id(llama), 0), llama.n_tokens, len(tokens)), pre
    while same < end and llama.input_ids[same] == tokens[same]:
        same += 1
    kept = (same - pre) // _TILE * _TILE
    while kept and min(len(tokens) - pre, (kept // n + 1) * n) - kept < _MIN_BATCH:
        kept -= _TILE
    return pre + kept


def _probe(llama: Any, pre: int) -> int:
    """Measure once per model whether this host's kernels give the same logits for a prompt read in one batch
    and for the same prompt read on from its first three tiles (kernels differ between CPUs), on a probe of
    the model's own vocabulary after the system prompt; returns the tokens read. The probe's rows are not kept."""
    import numpy as np

    probe = list(range(1000, 1000 + 3 * _TILE + _MIN_BATCH + _TILE + 1))  # the rest ends in a partial tile
    last = []
    for start in (pre, pre + 3 * _TILE):
        llama.n_tokens = start
        llama.eval(probe[start - pre:])
        last.append(_last_logits(llama).copy())
    llama.n_tokens = pre
    _KEEPS[id(llama)] = bool(np.array_equal(*last))
    return 2 * len(probe) - 3 * _TILE


def read_prompt(llama: Any, system: str, user: str) -> tuple[list[int], int, Any]:
    """Evaluate a chat prompt from the saved state of its system prompt: (its tokens, tokens read, next logits).

    The system prompt's KV state is computed once, on its own, and every call evaluates the rest of its
    prompt from exactly that state: the same prompt gives the same logits whatever was asked before in
    the process (reusing an arbitrary cached prefix would change the batch shapes, and so the
    floating-point result and a greedy answer). Rows of the last prompt that agree with this one are kept
    where that gives the same logits (see :func:`_resume_at`). The caller holds the model's lock.
    """
    import numpy as np

    tokens = llama.tokenize(chat_prompt(llama, [_message("system", system), _message("user", user)]).encode(),
                            add_bos=False, special=True)
    fixed = llama.tokenize(chat_prompt(llama, [_message("system", system)]).encode(), add_bos=False, special=True)
    pre = next((i for i, (a, b) in enumerate(zip(tokens, fixed, strict=False)) if a != b), len(fixed))
    pre = min(pre, len(tokens) - 1)
    read = 0
    if llama.n_tokens < pre or list(llama.input_ids[:pre]) != tokens[:pre]:
        llama.reset()
        llama.eval(tokens[:pre])
        read = pre + (_probe(llama, pre) if id(llama) not in _KEEPS else 0)
        _READ_TO[id(llama)] = pre
    start, n = _resume_at(llama, tokens, pre), _batch(llama)
    cut = pre + ((start - pre) // n + 1) * n  # where a reading from pre starts its next batch
    llama.n_tokens = start
    for part in (tokens[start:cut], tokens[cut:]):
        if part:
            llama.eval(part)
    last = start if len(tokens) <= cut else cut + (len(tokens) - cut - 1) // n * n  # the last batch's first row
    _READ_TO[id(llama)] = len(tokens) if len(tokens) - last >= _MIN_BATCH else last  # a small one is computed otherwise
    return tokens, read + len(tokens) - start, _last_logits(llama).astype(np.float64)


def yes_probability(llama: Any, logits: Any, yes: str = "Yes", no: str = "No") -> float:
    """The probability, from the next token's ``logits``, that a reply starts with ``yes`` rather than ``no``."""
    import numpy as np

    y, n = (llama.tokenize(w.encode(), add_bos=False)[0] for w in (yes, no))
    return 1.0 / (1.0 + float(np.exp(min(logits[n] - logits[y], 50.0))))


def greedy(llama: Any, grammar: Any) -> Iterator[int]:
    """The greedy tokens under ``grammar`` that follow the prompt just read (see :func:`read_prompt`).

    The grammar is asked about the model's top token first, and about the whole vocabulary only when it
    rejects that one (as llama.cpp's own common sampler does): the same choice as masking every token and
    taking the best, without matching ~150k tokens against the grammar at each step (on 2 cores that cost
    about as much as the model's pass). The caller holds the model's lock.
    """
    import ctypes

    import llama_cpp as lc
    import numpy as np
    from llama_cpp._internals import LlamaTokenDataArray

    n_vocab = llama.n_vocab()
    rules = lc.llama_sampler_init_grammar(llama._model.vocab, grammar._grammar.encode(), grammar._root.encode())
    top = (lc.llama_token_data * 1)()
    one = lc.llama_token_data_array(data=top, size=1, selected=-1, sorted=False)
    every = None
    try:
        while True:
            logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(n_vocab,))
            token = int(np.argmax(logits))
            top[0].id, top[0].logit, top[0].p = token, float(logits[token]), 0.0
            one.size, one.selected = 1, -1
            lc.llama_sampler_apply(rules, ctypes.byref(one))
            if top[0].logit == -np.inf:  # not allowed here: the best token the grammar allows
                every = every or LlamaTokenDataArray(n_vocab=n_vocab)
                every.copy_logits(logits)
                lc.llama_sampler_apply(rules, ctypes.byref(every.candidates))
                token = int(np.argmax(every.candidates_data.logit))
            lc.llama_sampler_accept(rules, token)
            yield token
            llama.eval([token])
    finally:
        lc.llama_sampler_free(rules)


class ChatLlamaCppLocal(BaseChatModel):
    """Chat model backed by an in-process llama.cpp model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 2048
    n_batch: int = 512
    n_threads: int = 0
    max_tokens: int = 160
    temperature: float = 0.0
    judge_ctx: int = 512  # each side role's own context (the judge, the imagined answer): a question and a sentence or two
    _llama: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llamacpp-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "max_tokens": self.max_tokens}

    @property
    def llama(self) -> Any:
        """The loaded llama.cpp model (loaded on first use)."""
        if self._llama is None:
            self._llama = load_llama(self.model_path, self.n_ctx, self.n_batch, self.n_threads)
        return self._llama

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``."""
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def constrained(
        self, system: str, user: str, first: list[str], choose: Callable[[dict[str, float]], str | None], max_tokens: int,
        role: str = "",
    ) -> Iterator[dict[str, float] | str]:
        """Greedy completion under a GBNF grammar, always read from the same state (see :func:`read_prompt`).

        Yields ``{"prompt_tokens": n, **probabilities}`` first: the model's probability (over its whole
        vocabulary) that its reply starts with the first token of each string of ``first``. Then
        ``choose(probabilities)`` gives the grammar to write under (None: write nothing), and the text
        is yielded as it is written. ``role``: another context than the reader's, with its own saved system prompt.
        """
        import numpy as np
        from llama_cpp import LlamaGrammar, llama_vocab_is_eog

        llama = self._side_llama(role) if role else self.llama
        with _CALL_LOCKS[id(llama)]:
            _, read, logits = read_prompt(llama, system, user)
            ids = [llama.tokenize(s.encode(), add_bos=False)[0] for s in first]
            p = np.exp(logits[ids] - logits.max()) / np.exp(logits - logits.max()).sum()
            probabilities = {s: (float(x) if ids.index(i) == k else 0.0)  # a first token shared is counted once
                             for k, (s, i, x) in enumerate(zip(first, ids, p.tolist(), strict=True))}
            yield {"prompt_tokens": read, **probabilities}
            rules = choose(probabilities)
            if rules is None:
                return
            pending = b""
            grammar = LlamaGrammar.from_string(rules, verbose=False)
            for n, token in enumerate(greedy(llama, grammar)):
                if llama_vocab_is_eog(llama._model.vocab, token):
                    break
                pending += llama.detokenize([token])
                try:
                    text, pending = pending.decode("utf-8"), b""
                except UnicodeDecodeError:  # a character split over tokens
                    continue
                yield text
                if n + 1 >= max_tokens:
                    break

    def warm_up(self, reader_system: str, **side_systems: str) -> None:
        """Load the model and compute the saved state of the reader's system prompt, and of each side role's (the
        judge's, the imagined answer's) in its own context, as the first question would: after a restart it is
        then as fast as the next."""
        contexts = [(self.llama, reader_system), *((self._side_llama(r), s) for r, s in side_systems.items())]
        for llama, system in contexts:
            with _CALL_LOCKS[id(llama)]:
                read_prompt(llama, system, "?")

    def _side_llama(self, role: str) -> Any:
        """A small context of its own for a side role (the judge, the imagined answer), with its own saved system
        prompt, so that it never disturbs the reader's."""
        return load_llama(self.model_path, self.judge_ctx, self.n_batch, self.n_threads, role)

    def judge(self, system: str, user: str, yes: str = "Yes", no: str = "No") -> tuple[float, int]:
        """The model's probability that its reply starts with ``yes`` rather than ``no``, and the prompt tokens
        it read: one forward pass, in a small context of its own (with its own saved system prompt), so
        it does not disturb the answer's."""
        llama = self._side_llama("judge")
        with _CALL_LOCKS[id(llama)]:
            _, read, logits = read_prompt(llama, system, user)
        return yes_probability(llama, logits, yes, no), read

    def _params(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        return {
            "messages": [{"role": _role(m), "content": str(m.content)} for m in messages],
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "top_k": 1,
            "repeat_penalty": 1.05,
            "stop": stop or None,
            "seed": 0,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = self.llama
        with _CALL_LOCKS[id(llama)]:
            _READ_TO.pop(id(llama), None)  # llama-cpp-python's own prompt cache decides what it keeps
            for part in llama.create_chat_completion(stream=True, **self._params(messages, stop, **kwargs)):
                delta = part["choices"][0]["delta"].get("content") or ""
                if not delta:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
