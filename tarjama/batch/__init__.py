"""Resumable batch runs: many inputs in, every record accounted for exactly once.

    tarjama batch wire/ extra.jsonl --to en,es --summary --out night.jsonl [--resume]

The pieces, in the order a record meets them:

- ``enumerate_inputs``: files and directories (recursive, sorted, hidden names skipped) → a stable
  list of sources, decided before anything is read, so a rerun sees the same order.
- ``preflight``: usage errors the first records show (plain text on stdin, no such text field), raised
  before any model loads, so they cost one message, not one error per record minutes later.
- ``iter_items``: one lazy stream of ``Document`` (a good record) or ``Failure`` (a bad one) per
  record; files are read only when reached, so a file that vanishes meanwhile is a ``missing`` record.
- ``Runner``: drops records already done (resume), turns a repeated id into a ``duplicate_id``
  failure, gathers records into chunks and translates each chunk with one ``Pipeline.run_many``
  call (sentences of many articles share batches), which validates each article once and returns an
  outcome per article: a bad one (``empty``, ``not_arabic``, ``too_long``) is its own failure. A chunk
  that raises is re-run one article at a time, so one bad article costs only itself (``model_error``).
- ``JsonlLog`` / ``DirOutput``: the only writers. A JSONL entry is written with one ``os.write`` of
  the complete line; a dir entry is files written to a temporary name and renamed, ``ID.json`` last.
  A crash therefore leaves whole entries plus at most one torn last line, which the next
  ``--resume`` cuts off (and says so) before appending.
- ``Manifest`` (``OUT`` stem + ``.manifest.json``): the run's targets, summary flag and models; a
  resume with different ones is refused rather than mixing two kinds of result in one file.

Exactly-once is by input record, identified by ``(id, source)``: each lands once in output ∪ errors.
A later record reusing an id is written to the errors file as ``duplicate_id`` with its own position
(``source``), so it too is accounted for once, and a resume skips that position (the id's first record
is matched by id, so a crash between the two writes loses neither).
"""

from __future__ import annotations

from tarjama.batch.cli import add_parser, cmd_batch
from tarjama.batch.config import BatchConfig, BatchError, Failure, Fields, resume_command
from tarjama.batch.inputs import enumerate_inputs, iter_items
from tarjama.batch.outputs import JsonlLog, safe_name
from tarjama.batch.progress import BarProgress, LogProgress
from tarjama.batch.runner import BatchReport, run_batch

__all__ = ["BarProgress", "BatchConfig", "BatchError", "BatchReport", "Failure", "Fields", "JsonlLog",
           "LogProgress", "add_parser", "cmd_batch", "enumerate_inputs", "iter_items",
           "resume_command", "run_batch", "safe_name"]
