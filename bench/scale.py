"""Scale benchmark: ingest, re-ingest, retrieval and ask() on synthetic corpora of 1k, 10k and 100k chunks.

    python -m bench.scale [--sizes 1000 10000 100000] [--asks 4] [--preset qwen1.5b] [--out bench/RESULTS.md]
    python -m bench.scale --restart [--sizes 10000 100000] [--processes 3] [--baseline-src DIR] [--workdir DIR]
    python -m bench.scale --grow 600 [--sizes 100000] [--baseline-src DIR] [--workdir DIR]

Each size runs in a fresh subprocess, so its peak RSS is its own. Per size it reports:
- ingest throughput of ``qa ingest`` (load, chunk, embed, write) and its ratio to a bare
  sentence-transformers ``encode`` of the same chunk texts;
- re-ingest of the unchanged corpus;
- the first query (which opens the persisted lexical index) and retrieval p50/p95;
- ``ask()`` against the model's bare generation of the same prompt to the same tokens (the KV cache is
  reset before each, so both read the whole prompt);
- peak RSS before and after the LLM is loaded, and the store's size on disk.

``--restart`` measures the first question after a restart against the second: a store is built by the
real ingest path (load, chunk, Chroma and lexical-index writes) but with random unit vectors in place of
MiniLM's (the embedder is not what is measured, and a 100k-chunk store takes ~50 min to embed); then
``--processes`` fresh processes each prepare two questions (everything before the LLM: spelling
correction, retrieval, evidence selection), once straight away and once after ``Pipeline.warm_up`` (what
``qa ui`` does before it serves: open the store and lexical index, load the models). Per process: time from
its start to the first question's retrieval done, and each question's time. ``--baseline-src`` runs the same
processes with another source tree (e.g. an older checkout) against the same store.

``--grow N`` measures an incremental ingest at scale: N new generated files added to a copy of that store (random
unit vectors again: the store's writes are measured, not the embedder), then an unchanged re-ingest, by this tree
and by ``--baseline-src`` if given, each on its own fresh copy.

Timings vary with machine load: compare the figures of one run with each other, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.run import QUESTIONS, pct

ROOT = Path(__file__).resolve().parents[1]
CHUNKS_PER_FILE = 9.3  # measured mean of generated articles (40 sentences) at 160-token chunks
RETRIEVAL_QUERIES = QUESTIONS + [
    "Which militant groups were targeted in Balochistan?",
    "What did China say about the strikes?",
    "When did Iran launch missiles at Pakistan?",
    "Where did the suicide bombing in Kerman happen?",
    "Did the two countries recall their ambassadors?",
    "What was the reaction of the United States?",
]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def du_mb(path: Path) -> float:
    """Disk usage of a directory tree in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def measure(size: int, asks: int, preset: str, workdir: Path, encode_sample: int = 0) -> dict[str, Any]:
    """All measurements for one corpus size (run in its own process)."""
    from bench.synthetic import write_corpus
    from qa.answer.pipeline import Pipeline
    from qa.components.embedding import get_embedder
    from qa.settings import load_settings

    corpus, store = workdir / "corpus", workdir / "store"
    n_files = max(1, round(size / CHUNKS_PER_FILE))
    corpus_bytes = write_corpus(ROOT / "seeds", corpus, n_files)
    model = get_embedder()
    model.encode(["warm up"])  # model load is not ingest time
    r: dict[str, Any] = {"size": size, "files": n_files, "corpus_mb": corpus_bytes / 2**20}

    pipeline = Pipeline(load_settings(corpus=str(corpus), store=str(store), llm_preset=preset))
    t = time.perf_counter()
    report = pipeline.ingest()
    r["ingest_s"] = time.perf_counter() - t
    r["chunks"] = report.total_chunks

    texts = [p.text for p in pipeline.store.all_passages()]
    if encode_sample and len(texts) > encode_sample:  # encode time is linear in the number of chunks
        r["encode_sampled"] = encode_sample
        texts = random.Random(0).sample(texts, encode_sample)
    t = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    r["encode_s"] = (time.perf_counter() - t) * r["chunks"] / len(texts)
    del texts

    t = time.perf_counter()
    again = pipeline.ingest()
    r["reingest_s"] = time.perf_counter() - t
    assert again.chunks_written == 0 and len(again.unchanged) == n_files, again.summary()
    r["store_mb"] = du_mb(store)

    retriever = pipeline.retriever
    t = time.perf_counter()
    retriever.search(RETRIEVAL_QUERIES[0], pipeline.settings.k)
    r["first_query_s"] = time.perf_counter() - t
    lat = []
    for _ in range(5):
        for q in RETRIEVAL_QUERIES:
            t = time.perf_counter()
            retriever.search(q, pipeline.settings.k)
            lat.append((time.perf_counter() - t) * 1000)
    r["retrieval_p50_ms"], r["retrieval_p95_ms"] = pct(lat, 0.5), pct(lat, 0.95)
    r["rss_before_llm_mb"] = peak_rss_mb()
    if asks:
        r.update(ask_overhead(pipeline, asks))
    r["rss_peak_mb"] = peak_rss_mb()
    return r


def ask_overhead(pipeline: Any, asks: int) -> dict[str, Any]:
    """Time ask() and the bare generation of the very prompt it sent, to the same tokens."""
    from qa.answer.pipeline import Pipeline
    from qa.components.llm import get_llm

    llm = get_llm(pipeline.settings)
    sent: list[Any] = []
    real_stream = llm._stream

    def recording_stream(messages: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append((messages, kwargs))
        return real_stream(messages, *args, **kwargs)

    object.__setattr__(llm, "_stream", recording_stream)
    p = Pipeline(pipeline.settings, llm=llm)
    p.ask(QUESTIONS[0])  # load the model
    ask_s, bare_s, tokens = [], [], []
    for q in QUESTIONS[:asks]:
        sent.clear()
        llm.llama.reset()
        t = time.perf_counter()
        answer = p.ask(q)
        total = time.perf_counter() - t
        if len(sent) != 1:  # refused before the model was asked: nothing to compare
            continue
        messages, kwargs = sent[0]
        llm.llama.reset()
        t = time.perf_counter()
        out = "".join(c.text for c in real_stream(messages, **kwargs))
        bare_s.append(time.perf_counter() - t)
        ask_s.append(total)
        tokens.append(llm.count_tokens(out))
        assert out == answer.raw, "bare generation differs from the draft ask() got"
    object.__setattr__(llm, "_stream", real_stream)
    return {"asks": len(ask_s), "ask_s": sum(ask_s), "bare_s": sum(bare_s), "answer_tokens": sum(tokens)}


def build_store(size: int, workdir: Path) -> dict[str, Any]:
    """A store of ~``size`` chunks made by the real ingest path, with random unit vectors for MiniLM's."""
    import importlib

    import numpy as np

    from bench.synthetic import write_corpus
    from qa.answer.pipeline import Pipeline
    from qa.settings import load_settings

    rng = np.random.default_rng(0)

    def random_unit_vectors(texts: list[str], batch_size: int = 64) -> np.ndarray:
        v = rng.standard_normal((len(texts), 384)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    indexer = importlib.import_module("qa.ingest.indexer")  # ("qa.ingest" is also qa.api's function)
    indexer.embed = random_unit_vectors
    corpus, store = workdir / "corpus", workdir / "store"
    n_files = max(1, round(size / CHUNKS_PER_FILE))
    write_corpus(ROOT / "seeds", corpus, n_files)
    pipeline = Pipeline(load_settings(corpus=str(corpus), store=str(store)))
    r: dict[str, Any] = {"size": size, "files": n_files}
    t = time.perf_counter()
    r["chunks"] = pipeline.ingest().total_chunks
    r["ingest_s"] = time.perf_counter() - t
    changed = sorted(corpus.rglob("*.txt"))[n_files // 2]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA late paragraph names Quorvath harbour.\n", encoding="utf-8")
    t = time.perf_counter()
    report = pipeline.ingest()
    r["one_file_reingest_s"] = time.perf_counter() - t
    assert report.updated == [changed.relative_to(corpus).as_posix()], report.summary()
    r["lexical_mb"] = sum(f.stat().st_size for f in (store / "lexical").glob("*")) / 2**20
    r["store_mb"] = du_mb(store)
    return r


FIRST_QUESTIONS = r"""
import json, sys, time
t0 = float(sys.argv[1])
from qa.answer.pipeline import Pipeline
from qa.components.embedding import embed
from qa.settings import load_settings
t_import = time.time()
embed(["warm up"])  # the embedder's load is the same at any corpus size
t_model = time.time()
pipeline = Pipeline(load_settings(corpus=sys.argv[2], store=sys.argv[3]))
out = {"import_s": t_import - t0, "model_s": t_model - t_import, "questions": [], "warm_up_s": 0.0}
if sys.argv[4] == "warm":  # as `qa ui` does before it serves
    t = time.perf_counter()
    pipeline.warm_up()
    out["warm_up_s"] = time.perf_counter() - t
for q in sys.argv[5:]:
    t = time.perf_counter()
    prep = pipeline.prepare(q, [])
    out["questions"].append({"prepare_s": time.perf_counter() - t, **prep.timings})
    out.setdefault("start_to_first_s", time.time() - t0)
print(json.dumps(out))
"""


def restart(workdir: Path, processes: int, src: Path, warm: bool = False) -> dict[str, Any]:
    """Fresh processes over the store in ``workdir``, each preparing two questions (run from source tree ``src``),
    after ``Pipeline.warm_up`` when ``warm`` (what ``qa ui`` does before it serves)."""
    runs = []
    for i in range(processes):
        questions = [RETRIEVAL_QUERIES[(2 * i) % len(RETRIEVAL_QUERIES)], RETRIEVAL_QUERIES[(2 * i + 1) % len(RETRIEVAL_QUERIES)]]
        cmd = [sys.executable, "-c", FIRST_QUESTIONS, str(time.time()), str(workdir / "corpus"), str(workdir / "store"),
               "warm" if warm else "cold", *questions]
        out = subprocess.run(cmd, cwd=src, capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
        if out.returncode:
            sys.exit(f"restart run failed:\n{out.stderr[-3000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    first = [r["questions"][0] for r in runs]
    second = [r["questions"][1] for r in runs]
    return {
        "src": f"{src}{' (warmed up)' if warm else ''}", "processes": processes,
        "warm_up_s": mean([r["warm_up_s"] for r in runs]),
        "start_to_first_s": mean([r["start_to_first_s"] for r in runs]),
        "import_s": mean([r["import_s"] for r in runs]), "model_s": mean([r["model_s"] for r in runs]),
        **{f"first_{k}": mean([q[k] for q in first]) for k in ("prepare_s", "retrieve", "select")},
        **{f"second_{k}": mean([q[k] for q in second]) for k in ("prepare_s", "retrieve", "select")},
    }


def restart_row(b: dict[str, Any], r: dict[str, Any]) -> str:
    """One Markdown row of the restart table."""
    ms = 1000
    return (f"| {b['chunks']:,} | {r['src']} | {r['start_to_first_s']:.2f} s | "
            f"{r['first_prepare_s'] * ms:.0f} ms ({r['first_retrieve'] * ms:.0f} / {r['first_select'] * ms:.0f}) | "
            f"{r['second_prepare_s'] * ms:.0f} ms ({r['second_retrieve'] * ms:.0f} / {r['second_select'] * ms:.0f}) | "
            f"{r['first_prepare_s'] / r['second_prepare_s']:.2f}× | {r['first_retrieve'] / r['second_retrieve']:.2f}× |")


RESTART_HEADER = (
    "| chunks | source tree | process start → first question's retrieval done | first question (open, spell and "
    "retrieve / select) | second question | first ÷ second | retrieve first ÷ second |\n"
    "| --- | --- | --- | --- | --- | --- | --- |"
)


def built_store(size: int, workdir: Path) -> dict[str, Any]:
    """The store of ``size`` chunks under ``workdir``, built (in a subprocess) unless it is there already."""
    done = workdir / "built.json"
    if not done.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "bench.scale", "--build", str(size), "--workdir", str(workdir)]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
        if out.returncode:
            sys.exit(f"size {size} failed:\n{out.stderr[-3000:]}")
        done.write_text(out.stdout.strip().splitlines()[-1])
    built = json.loads(done.read_text())
    print(f"built: {json.dumps(built)}", flush=True)
    return built


GROW = r"""
import importlib, json, sys, time
from pathlib import Path
import numpy as np
from qa.components.vector_store import open_store
from qa.settings import load_settings
indexer = importlib.import_module("qa.ingest.indexer")
rng = np.random.default_rng(0)
def random_unit_vectors(texts, batch_size=64):
    v = rng.standard_normal((len(texts), 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)
indexer.embed = random_unit_vectors
settings = load_settings(corpus=sys.argv[1], store=sys.argv[2])
store = open_store(settings)
t = time.perf_counter(); r = indexer.ingest(store, Path(sys.argv[1]), settings); grow_s = time.perf_counter() - t
t = time.perf_counter(); again = indexer.ingest(store, Path(sys.argv[1]), settings); again_s = time.perf_counter() - t
assert again.chunks_written == 0 and not r.updated and not r.removed, (r.summary(), again.summary())
print(json.dumps({"added": len(r.added), "chunks_written": r.chunks_written, "total": r.total_chunks,
                  "grow_s": grow_s, "reingest_s": again_s}))
"""


def grow(workdir: Path, files: int, src: Path) -> dict[str, Any]:
    """Ingest ``files`` new generated files into a fresh copy of the store in ``workdir``, run from tree ``src``."""
    import shutil

    from bench.synthetic import write_corpus

    with tempfile.TemporaryDirectory(prefix="qa-grow-", dir=workdir) as tmp:
        corpus, store = Path(tmp) / "corpus", Path(tmp) / "store"
        shutil.copytree(workdir / "corpus", corpus)
        shutil.copytree(workdir / "store", store)
        write_corpus(ROOT / "seeds", corpus / "new", files, seed=1)
        cmd = [sys.executable, "-c", GROW, str(corpus), str(store)]
        out = subprocess.run(cmd, cwd=src, capture_output=True, text=True,
                             env=dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(src)))
        if out.returncode:
            sys.exit(f"grow run failed:\n{out.stderr[-3000:]}")
        return {"src": str(src), **json.loads(out.stdout.strip().splitlines()[-1])}


GROW_HEADER = ("| chunks before | source tree | new files (chunks) | ingest | per new file | unchanged re-ingest |\n"
               "| --- | --- | --- | --- | --- | --- |")


def grow_main(args: argparse.Namespace) -> None:
    """Build each size's store once, then time adding ``--grow`` files to copies of it (this tree, and a
    baseline tree if given)."""
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="qa-grow-") as tmp:
            workdir = Path(args.workdir) / str(size) if args.workdir else Path(tmp)
            built = built_store(size, workdir)
            print(GROW_HEADER, flush=True)
            for src in [ROOT] + ([Path(args.baseline_src)] if args.baseline_src else []):
                r = grow(workdir, args.grow, src)
                print(f"| {built['chunks']:,} | {r['src']} | {r['added']} ({r['chunks_written']:,}) | {r['grow_s']:.1f} s | "
                      f"{r['grow_s'] / max(r['added'], 1) * 1000:.0f} ms | {r['reingest_s']:.1f} s |", flush=True)


def restart_main(args: argparse.Namespace) -> None:
    """Build each size's store once (kept under ``--workdir`` if given, and reused), then time fresh processes
    over it (this tree, and a baseline tree if given)."""
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="qa-restart-") as tmp:
            workdir = Path(args.workdir) / str(size) if args.workdir else Path(tmp)
            built = built_store(size, workdir)
            trees = [ROOT] + ([Path(args.baseline_src)] if args.baseline_src else [])
            runs = [(src, False) for src in trees] + [(ROOT, True)]
            for src, warm in runs:
                r = restart(workdir, args.processes if src == ROOT else 1, src, warm)
                print(f"{RESTART_HEADER}\n{restart_row(built, r)}\nraw: {json.dumps(r)}", flush=True)


def row(r: dict[str, Any]) -> str:
    """One Markdown table row."""
    ratio = r["ingest_s"] / r["encode_s"]
    sampled = f" (from {r['encode_sampled']:,})" if r.get("encode_sampled") else ""
    ask = (f"{r['ask_s'] / r['asks']:.2f} / {r['bare_s'] / r['asks']:.2f} s = {r['ask_s'] / r['bare_s']:.2f}×"
           if r.get("asks") else "–")
    return (f"| {r['chunks']:,} | {r['files']:,} | {r['chunks'] / r['ingest_s']:.0f} chunks/s ({r['ingest_s']:.1f} s) | "
            f"{r['encode_s']:.1f} s{sampled} = {ratio:.2f}× | {r['reingest_s']:.2f} s | {r['first_query_s']:.2f} s | "
            f"{r['retrieval_p50_ms']:.1f} / {r['retrieval_p95_ms']:.1f} ms | {ask} | "
            f"{r['rss_before_llm_mb']:.0f} / {r['rss_peak_mb']:.0f} MiB | {r['store_mb']:.0f} MiB |")


HEADER = (
    "| chunks | files | ingest | bare encode (ingest ÷ encode) | re-ingest unchanged | first query "
    "| retrieval p50 / p95 | ask() / bare generation, mean | peak RSS before / with LLM | store on disk |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def main() -> None:
    """Run each size in a subprocess and write the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--asks", type=int, default=4, help="questions for the ask() overhead (0 = skip)")
    parser.add_argument("--preset", default="qwen1.5b")
    parser.add_argument("--out", default="", help="also write the results here (Markdown)")
    parser.add_argument("--encode-sample", type=int, default=10000,
                        help="time the bare encode on this many chunks and scale up (0 = all)")
    parser.add_argument("--restart", action="store_true", help="time the first question after a restart (see above)")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per size for --restart")
    parser.add_argument("--grow", type=int, default=0, help="time adding this many new files to the store (see above)")
    parser.add_argument("--baseline-src", default="", help="also run --restart's (or --grow's) runs from this source tree")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help="--restart, --grow: build and keep the stores under this folder (reused if there)")
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build_store(args.build, Path(args.workdir))))
        return
    if args.restart:
        restart_main(args)
        return
    if args.grow:
        grow_main(args)
        return
    if args.one:
        with tempfile.TemporaryDirectory(prefix="qa-scale-") as tmp:
            print(json.dumps(measure(args.one, args.asks, args.preset, Path(tmp), args.encode_sample)))
        return
    rows = []
    for size in args.sizes:
        cmd = [sys.executable, "-m", "bench.scale", "--one", str(size), "--asks", str(args.asks), "--preset", args.preset,
               "--encode-sample", str(args.encode_sample)]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
        if out.returncode:
            sys.exit(f"size {size} failed:\n{out.stderr[-3000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(row(r) if len(rows) > 1 else f"{HEADER}\n{row(r)}", flush=True)
    if args.out:
        command = "python -m bench.scale " + " ".join(sys.argv[1:])
        Path(args.out).write_text(
            f"Command: `{command.strip()}` ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
            f"{platform.processor() or platform.machine()}, preset {args.preset})\n\n{HEADER}\n"
            + "\n".join(row(r) for r in rows) + "\n\nRaw: " + json.dumps(rows) + "\n"
        )


if __name__ == "__main__":
    main()
