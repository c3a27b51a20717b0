"""A thin LangChain chat model over llama-cpp-python (replaces langchain-community's ChatLlamaCpp).

It loads a GGUF once per process and per path, uses a large ``n_batch`` (prompt reading is the
bottleneck on 2 cores), serialises calls with a lock (a llama.cpp context is not thread-safe),
and streams tokens.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

_MODELS: dict[tuple[str, int, int, int], Any] = {}
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


def load_llama(path: str, n_ctx: int, n_batch: int, n_threads: int) -> Any:
    """Load (once per process) a llama.cpp model."""
    from llama_cpp import Llama

    key = (path, n_ctx, n_batch, n_threads)
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


class ChatLlamaCppLocal(BaseChatModel):
    """Chat model backed by an in-process llama.cpp model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 2048
    n_batch: int = 512
    n_threads: int = 0
    max_tokens: int = 160
    temperature: float = 0.0
    judge_ctx: int = 1024  # yes_probability's own context: a question and one or two sentences
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

    def yes_probability(self, messages: list[BaseMessage], yes: str = "Yes", no: str = "No") -> float:
        """How likely the model's reply to ``messages`` starts with ``yes`` rather than ``no`` (0..1).

        One forward pass over the prompt, no sampling: the model's judgement as a number that can be
        held to a calibrated threshold. It runs in a context of its own over the same (memory-mapped)
        weights, so it may be called while an answer is still streaming from this model: the answer's
        context, and its KV cache for the next question, are left as they are. A prompt longer than
        that context gets 0.
        """
        import numpy as np

        llama = load_llama(self.model_path, self.judge_ctx, self.n_batch, self.n_threads)
        prompt = chat_prompt(llama, [{"role": _role(m), "content": str(m.content)} for m in messages])
        tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if len(tokens) >= self.judge_ctx:
            return 0.0
        yes_id, no_id = (llama.tokenize(w.encode("utf-8"), add_bos=False)[0] for w in (yes, no))
        with _CALL_LOCKS[id(llama)]:
            limit = min(llama.n_tokens, len(tokens) - 1)  # at least one token is read, for fresh logits
            same = llama.input_ids[:limit] == np.asarray(tokens[:limit])
            keep = limit if same.all() else int(np.argmin(same))  # the shared prompt prefix is not read again
            llama.n_tokens = keep
            llama.eval(tokens[keep:])
            logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
            margin = float(logits[no_id] - logits[yes_id])
        return 1.0 / (1.0 + float(np.exp(min(margin, 50.0))))

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
            for part in llama.create_chat_completion(stream=True, **self._params(messages, stop, **kwargs)):
                delta = part["choices"][0]["delta"].get("content") or ""
                if not delta:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
