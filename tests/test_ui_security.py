"""Who can reach the UI and what it may read or delete: the login rule of ``qa ui --host``, uploads checked
by content, folder import only under QA_IMPORT_ROOTS (after symlinks), removal only inside the corpus.

The CLI runs for real in a subprocess; the app, Chroma, the embedder, gradio_client and headless
Chromium are real; a scripted model writes the drafts (what it says depends only on the question).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from ui_support import (
    CHROMIUM,
    CODENAME_Q,
    ROOT,
    ask_in_browser,
    chromium_page,
    free_port,
    http_ok,
    screenshot,
    scripted,
    served,
    wait_until,
)

from qa.errors import QAError
from qa.ui.access import ui_login
from qa.ui.documents import add_file, content_problem, import_folder, remove_file, safe_upload_name

browser = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)")
SECRET = "The vault access code of the Wrenfield depot is 4417-KESTREL."
VAULT_Q = "What is the vault access code of the Wrenfield depot?"
KEEPER = "Ada Brown is the lighthouse keeper of Wrenfield."
REPLIES = {"vault": "The vault access code is 4417-KESTREL [1].", "lighthouse": "Ada Brown is the lighthouse keeper [1].",
           "code name": "The operation was codenamed Marg Bar Sarmachar [1]."}
MB = 2**20


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


# ---- units ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,expected", [
    ("notes.txt", "notes.txt"), ("../../etc/passwd", None), ("..\\..\\evil.md", "evil.md"),
    (".hidden.txt", None), ("page.html", "page.html"), ("run.sh", None), ("a/b/c.md", "c.md"),
])
def test_upload_names_stay_inside_the_corpus(name, expected):
    assert safe_upload_name(name) == expected


@pytest.mark.parametrize("suffix,data,ok", [
    (".txt", "plain text, naïve".encode(), True),
    (".md", "\ufeff# Heading".encode("utf-8"), True),
    (".txt", "UTF-16 text".encode("utf-16"), True),
    (".txt", b"\x7fELF\x02\x01\x01\x00\x00\x00binary", False),
    (".md", b"caf\xe9 latin-1", False),
    (".html", b"<html><body><p>Hello</p></body></html>", True),
    (".html", b"no tags at all", False),
    (".pdf", b"%PDF-1.7\n...", True),
    (".pdf", b"<html>not a pdf</html>", False),
    (".docx", _docx(), True),
    (".docx", b"PK\x03\x04 not really a zip", False),
    (".txt", b"   \n", False),
])
def test_upload_types_are_checked_by_content(suffix, data, ok):
    assert (content_problem(data, suffix) is None) == ok


def test_added_files_are_checked_and_never_overwrite_silently(tmp_path):
    corpus, src = tmp_path / "corpus", tmp_path / "in"
    src.mkdir()
    (src / "notes.txt").write_text("first", encoding="utf-8")
    assert add_file(src / "notes.txt", "notes.txt", corpus, MB) == "added notes.txt"
    assert add_file(src / "notes.txt", "notes.txt", corpus, MB) == "notes.txt is already in the corpus with the same content"
    (src / "notes.txt").write_text("second", encoding="utf-8")
    assert add_file(src / "notes.txt", "notes.txt", corpus, MB).startswith("replaced notes.txt")
    assert (corpus / "notes.txt").read_text(encoding="utf-8") == "second"
    (src / "big.txt").write_bytes(b"x" * (MB + 1))
    assert add_file(src / "big.txt", "big.txt", corpus, MB) == "refused big.txt: too large (1.0 MiB > 1 MiB)"
    (src / "fake.pdf").write_text("hello", encoding="utf-8")
    assert add_file(src / "fake.pdf", "fake.pdf", corpus, MB).startswith("refused fake.pdf: ")
    assert add_file(src / "notes.txt", "run.sh", corpus, MB).startswith("refused run.sh: unsupported type .sh")
    assert sorted(p.name for p in corpus.iterdir()) == ["notes.txt"], "nothing else, no leftovers"


@pytest.fixture
def folders(tmp_path):
    """allowed/ok (a document, a symlink out), allowed/out (a symlinked folder out), outside/ (the secret)."""
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    (allowed / "ok").mkdir(parents=True)
    outside.mkdir()
    (outside / "vault.txt").write_text(SECRET, encoding="utf-8")
    (allowed / "ok" / "keeper.md").write_text(KEEPER, encoding="utf-8")
    (allowed / "ok" / ".env").write_text("TOKEN=x", encoding="utf-8")
    (allowed / "ok" / "escape.txt").symlink_to(outside / "vault.txt")
    (allowed / "out").symlink_to(outside, target_is_directory=True)
    return allowed, outside


def test_folders_are_read_only_under_the_allowed_roots_after_symlinks(tmp_path, folders):
    allowed, outside = folders
    corpus = tmp_path / "corpus"
    roots = [allowed.resolve()]
    outside_note = f"not inside an allowed folder ({allowed.resolve()})"
    for asked in (str(outside), f"{allowed}/../outside", str(allowed / "out"), "out", "/etc", "/no/such/place"):
        assert import_folder(asked, roots, corpus, MB) == [f"refused folder {asked!r}: {outside_note}"], asked
    assert import_folder(str(outside), [], corpus, MB)[0].startswith(f"refused folder {str(outside)!r}: importing folders is off")
    notes = import_folder("ok", roots, corpus, MB)
    assert notes == ["skipped .env: hidden file", f"refused escape.txt: it points outside the allowed folder {allowed.resolve()}",
                     "added keeper.md"]
    assert [p.name for p in corpus.iterdir()] == ["keeper.md"]
    assert not any("KESTREL" in p.read_text(encoding="utf-8") for p in corpus.iterdir())


def test_removal_deletes_only_indexed_files_inside_the_corpus(tmp_path):
    corpus, elsewhere = tmp_path / "corpus", tmp_path / "elsewhere"
    corpus.mkdir()
    elsewhere.mkdir()
    (corpus / "a.txt").write_text("a", encoding="utf-8")
    (elsewhere / "keep.txt").write_text("keep", encoding="utf-8")
    (corpus / "link.txt").symlink_to(corpus / "a.txt")
    indexed = {"a.txt", "link.txt", "../elsewhere/keep.txt"}
    assert remove_file("../elsewhere/keep.txt", indexed, corpus).startswith("refused")
    assert remove_file("other.txt", indexed, corpus) == "refused 'other.txt': not an indexed file"
    assert remove_file("link.txt", indexed, corpus) == "removed link.txt"
    assert (corpus / "a.txt").exists(), "a symlink is removed, not what it points to"
    assert remove_file("a.txt", indexed, corpus) == "removed a.txt"
    assert (elsewhere / "keep.txt").exists() and not any(corpus.iterdir())


def test_login_rule_for_the_bind_address(capsys):
    assert ui_login("127.0.0.1", env={}) is None and ui_login("::1", env={}) is None
    assert ui_login("localhost", env={}) is None
    with pytest.raises(QAError) as refused:
        ui_login("0.0.0.0", env={})
    assert "QA_UI_USER" in str(refused.value) and "QA_UI_PASSWORD" in str(refused.value) and "--no-auth" in str(refused.value)
    with pytest.raises(QAError):
        ui_login("127.0.0.1", share=True, env={})
    with pytest.raises(QAError, match="set both"):
        ui_login("127.0.0.1", env={"QA_UI_USER": "me"})
    assert ui_login("0.0.0.0", env={"QA_UI_USER": "me", "QA_UI_PASSWORD": "pw"}) == ("me", "pw")
    assert ui_login("0.0.0.0", no_auth=True, env={}) is None
    assert "without a login (--no-auth)" in capsys.readouterr().err


# ---- the real CLI -----------------------------------------------------------------------------------
def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa.cli", "ui", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return {**env, "QA_STORE": str(tmp_path / "store"), **extra}


@pytest.mark.parametrize("args", [("--host", "0.0.0.0"), ("--host", "::"), ("--host", "192.0.2.7"), ("--share", "on")])
def test_cli_refuses_an_open_bind_without_credentials_before_binding(tmp_path, args):
    port = str(free_port())
    proc = _cli(*args, "--port", port, env=_env(tmp_path))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: refusing to serve on ")
    assert "QA_UI_USER" in lines[0] and "QA_UI_PASSWORD" in lines[0] and "--no-auth" in lines[0]
    assert "Running on" not in out and not (tmp_path / "store").exists(), "nothing was loaded or bound"


@pytest.mark.browser
@browser
def test_cli_with_credentials_serves_a_page_that_asks_for_them(tmp_path):
    from gradio_client import Client

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "keeper.md").write_text(KEEPER, encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = _env(tmp_path, QA_CORPUS=str(corpus), QA_UI_USER="operator", QA_UI_PASSWORD="s3cret-pw")
    proc = _cli("--host", "127.0.0.1", "--port", str(port), "--llm", "smollm2", env=env)
    try:
        wait_until(lambda: proc.poll() is not None or http_ok(url), "the UI to start", tries=12000)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        with pytest.raises(Exception):  # noqa: B017  (gradio_client raises its own error types for a login wall)
            Client(url, verbose=False)
        assert Client(url, auth=("operator", "s3cret-pw"), verbose=False).view_api(print_info=False, return_format="dict")
        with chromium_page(url) as page:
            page.locator("input[type='password']").wait_for(timeout=60_000)
            assert page.locator("#qa-chat").count() == 0, "no chat before logging in"
            screenshot(page, "ui_login.png")
            page.locator("input[type='text']").first.fill("operator")
            page.locator("input[type='password']").fill("wrong")
            page.keyboard.press("Enter")
            page.get_by_text("Incorrect Credentials").wait_for(timeout=60_000)
            page.locator("input[type='text']").first.fill("operator")  # the failed login cleared the form
            page.locator("input[type='password']").fill("s3cret-pw")
            page.keyboard.press("Enter")
            page.locator("#qa-chat").wait_for(timeout=60_000)
            assert page.locator("input[type='password']").count() == 0
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


# ---- the real app: folder import, uploads and removal -------------------------------------------------
def _corpus_text(corpus: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in corpus.rglob("*") if p.is_file())


def test_gradio_client_folder_outside_the_roots_is_refused_and_not_answerable(tmp_path, folders):
    from gradio_client import Client

    allowed, outside = folders
    with served(tmp_path, scripted(REPLIES), import_roots=str(allowed)) as (url, pipeline):
        client = Client(url, verbose=False)
        for asked in (str(outside), str(allowed / "out"), f"{allowed}/../outside"):
            status = client.predict([], asked, api_name="/add_documents")[0]
            assert f"refused folder {asked!r}: not inside an allowed folder" in status
        status = client.predict([], "ok", api_name="/add_documents")[0]
        assert "refused escape.txt: it points outside the allowed folder" in status and "added keeper.md" in status
        corpus = pipeline.settings.corpus
        assert "KESTREL" not in _corpus_text(corpus)
        assert "vault.txt" not in pipeline.store.indexed_files() and "keeper.md" in pipeline.store.indexed_files()
        vault = client.predict(VAULT_Q, "[]", api_name="/ask")
        keeper = client.predict("Who is the lighthouse keeper of Wrenfield?", "[]", api_name="/ask")
    assert vault["refused"] and "KESTREL" not in vault["text"] and not vault["citations"]
    assert [c["source"] for c in keeper["citations"]] == ["keeper.md"], "the allowed folder's file is answerable"


def test_gradio_client_without_roots_has_no_folder_parameter(tmp_path, folders):
    from gradio_client import Client

    with served(tmp_path, scripted(REPLIES)) as (url, pipeline):
        client = Client(url, verbose=False)
        params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/add_documents"]["parameters"]
        assert [p["parameter_name"] for p in params] == ["files"]
        status = client.predict([], str(folders[1]), api_name="/add_documents")[0]  # the extra argument is dropped
        assert "nothing to add: choose files\n" in status + "\n" and "folder" not in status
        assert "KESTREL" not in _corpus_text(pipeline.settings.corpus)


def test_gradio_client_uploads_get_one_line_each_and_a_size_cap(tmp_path):
    from gradio_client import Client, handle_file

    up = tmp_path / "up"
    up.mkdir()
    (up / "keeper.md").write_text(KEEPER, encoding="utf-8")
    (up / "tool.exe.txt").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00binary")
    (up / "run.sh").write_text("echo hi", encoding="utf-8")
    (up / "page.html").write_text("no tags here", encoding="utf-8")
    (up / "004_df5bf45f4cf73b0f.txt").write_text("A replacement.", encoding="utf-8")
    (up / "huge.txt").write_bytes(b"a" * 40_000)
    with served(tmp_path, scripted(REPLIES), upload_max_mb=0.02) as (url, pipeline):
        client = Client(url, verbose=False)
        names = ["keeper.md", "tool.exe.txt", "run.sh", "page.html", "004_df5bf45f4cf73b0f.txt"]
        status = client.predict([handle_file(str(up / n)) for n in names], api_name="/add_documents")[0]
        with pytest.raises(Exception):  # noqa: B017  (Gradio refuses the upload itself: over max_file_size)
            client.predict([handle_file(str(up / "huge.txt"))], api_name="/add_documents")
        corpus = pipeline.settings.corpus
        indexed = set(pipeline.store.indexed_files())
    assert "- added keeper.md" in status
    assert "- refused tool.exe.txt: not UTF-8 or UTF-16 text (save it as UTF-8)" in status
    assert "- refused run.sh: unsupported type .sh" in status
    assert "- refused page.html: not an HTML page" in status
    assert "- replaced 004_df5bf45f4cf73b0f.txt" in status
    assert {"keeper.md", "004_df5bf45f4cf73b0f.txt"} <= indexed and not {"tool.exe.txt", "run.sh", "huge.txt"} & indexed
    assert not (corpus / "huge.txt").exists() and not (corpus / "run.sh").exists()


@pytest.mark.browser
@browser
def test_browser_folder_outside_the_roots_is_refused_and_not_answerable(tmp_path, folders):
    allowed, outside = folders
    with served(tmp_path, scripted(REPLIES), import_roots=str(allowed)) as (url, pipeline), chromium_page(url) as page:
        page.get_by_text("Add documents").click()
        page.locator("#qa-folder textarea").fill(str(outside))
        page.locator("#qa-add").click()
        status = page.locator("#qa-index-status")
        status.get_by_text("refused folder").wait_for(timeout=120_000)
        assert f"not inside an allowed folder ({allowed.resolve()})" in status.inner_text()
        answer = ask_in_browser(page, VAULT_Q, 0)
        assert "KESTREL" not in answer.inner_text() and "vault.txt" not in answer.inner_text()
        screenshot(page, "ui_folder_refused.png")
        assert "KESTREL" not in _corpus_text(pipeline.settings.corpus)


@pytest.mark.browser
@browser
def test_browser_without_roots_shows_no_folder_field(tmp_path):
    with served(tmp_path, scripted(REPLIES)) as (url, _), chromium_page(url) as page:
        page.get_by_text("Add documents").click()
        page.locator("#qa-add").wait_for(timeout=60_000)
        assert page.locator("#qa-folder").count() == 0 and page.get_by_text("folder to copy from").count() == 0


@pytest.mark.browser
@browser
def test_browser_lists_indexed_files_and_removes_one(tmp_path):
    removed = "004_df5bf45f4cf73b0f.txt"
    with served(tmp_path, scripted(REPLIES)) as (url, pipeline), chromium_page(url) as page:
        before = ask_in_browser(page, CODENAME_Q, 0)
        assert "Marg Bar Sarmachar" in before.inner_text()
        page.get_by_text("Indexed files").click()
        table = page.locator("#qa-files")
        table.get_by_text(removed).wait_for(timeout=60_000)
        assert all(table.get_by_text(p.name).count() for p in (ROOT / "seeds").iterdir())
        page.locator("#qa-remove-choice input").fill(removed)
        page.get_by_role("option", name=removed).click()
        page.locator("#qa-remove").click()
        page.locator("#qa-index-status").get_by_text(f"removed {removed}").wait_for(timeout=120_000)
        page.wait_for_function(f"() => !document.querySelector('#qa-files').innerText.includes('{removed}')",
                               timeout=60_000)
        screenshot(page, "ui_files_removed.png")
        after = ask_in_browser(page, CODENAME_Q, 1)
        assert "Sarmachar" not in after.inner_text() and removed not in after.inner_text()
        assert not (pipeline.settings.corpus / removed).exists() and removed not in pipeline.store.indexed_files()
        assert (ROOT / "seeds" / removed).exists()
