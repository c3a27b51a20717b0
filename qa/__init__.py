"""qa: offline question answering over a folder of documents, with verified citations."""

from qa.api import ask, ask_stream, get_pipeline, ingest, warm_up
from qa.errors import QAError
from qa.models import Answer, Citation, Passage, Progress
from qa.settings import Settings, load_settings

__all__ = ["ask", "ask_stream", "ingest", "warm_up", "get_pipeline", "Answer", "Citation", "Passage", "Progress",
           "QAError", "Settings", "load_settings"]
