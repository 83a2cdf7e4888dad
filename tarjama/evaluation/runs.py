"""The runs of ``tarjama eval``: read the test files, translate or summarize (or read given outputs), score
with ``tarjama.evaluation.metrics``, and build one report (a JSON-ready dict) plus its text rendering.

Translation files are line-aligned: line N of the source, the reference and the hypotheses is one sentence.
Lines are split on "\\n" only (a trailing "\\r" is dropped; one final newline ends the last line).
Empty lines:
* a reference line that is blank (whitespace only) cannot be scored: that line is left out of every score
  and of the translation, and counted (``skipped_blank_ref``);
* a blank source line (with a reference) is translated as it is (the translator copies text without
  letters) and scored: an empty output against a real reference counts against the system;
* a blank hypothesis line is scored as an empty translation.

Summary data is JSON Lines, one article per non-blank line; ``--limit N`` takes the first N such records.
A record that is not a JSON object, lacks the text or the reference summary, or whose article tarjama
refuses (not Arabic, empty after cleaning) is skipped with a one-line warning naming FILE:LINE; the others
are still scored and the report counts the skipped ones.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tarjama.evaluation import metrics

WORST = 10   # sentences listed by sentence chrF, lowest first
LEADS = (1, 3)  # the lead-k baselines of summary runs
SUMMARY_CHUNK = 8  # articles per summarizer call (the progress bar moves once per call)
Warn = Callable[[str], None]


class EvalError(Exception):
    """A failure to report in one line; ``code`` is the exit status (1 bad input, 2 usage)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def stderr_warn(message: str) -> None:
    print(f"tarjama: warning: {message}", file=sys.stderr, flush=True)


# -- files ------------------------------------------------------------------------------------------------


def read_lines(path: str | Path, what: str) -> list[str]:
    """The lines of a line-aligned text file (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise EvalError(f"{what} file {path} not found") from None
    except IsADirectoryError:
        raise EvalError(f"{what} file {path} is a folder; give a text file, one sentence per line") from None
    except UnicodeDecodeError as err:
        raise EvalError(f"{what} file {path} is not UTF-8 text (byte {err.start})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def check_counts(files: Sequence[tuple[str, str, int]], limit: int | None) -> int:
    """The number of lines to score; ``files`` are (what, path, lines), the reference first.

    Source and reference must have the same number of lines.  A hypotheses file (last) may instead hold
    exactly the lines a ``--limit`` run scores (what ``--save`` wrote with the same ``--limit``)."""
    (_, ref_path, n), *others = files
    wanted = n if limit is None else min(limit, n)
    for what, path, count in others:
        if count == n or (what == "hypotheses" and count == wanted):
            continue
        hint = ""
        if what == "hypotheses" and count < n:
            hint = f" (if it holds the first {count} lines only, add --limit {count})"
        raise EvalError(f"line counts differ: {what} {path} has {count} lines, reference {ref_path} has {n}{hint}")
    return wanted


def write_lines(path: str | Path, lines: Sequence[str]) -> Path:
    """One output per line (newlines inside one become spaces, keeping the file line-aligned), atomically."""
    from tarjama.atomic import write_atomic

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, "".join(" ".join(line.splitlines()) + "\n" for line in lines))
    return target


@dataclass
class Record:
    """One usable article of a summary data file."""

    line: int
    id: str
    text: str
    references: list[str]
    index: int  # its position among the records read (the line of a --hyp file that holds its summary)
    paragraphs: list[list[str]]  # the article as the pipeline segments it (what the summarizer reads)


@dataclass
class Data:
    records: list[Record] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {"line", "reason"}
    read: int = 0  # records (non-blank lines) read, skipped ones included


def read_data(path: str | Path, text_field: str, summary_field: str, limit: int | None, warn: Warn) -> Data:
    """The articles and reference summaries of a JSON Lines file; bad records are warned about and counted.

    The summary field holds one reference (a string) or several (a list of strings: EASC's ``summaries``)."""
    path = Path(path)
    data = Data()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise EvalError(f"data file {path} not found") from None
    except IsADirectoryError:
        raise EvalError(f"data file {path} is a folder; give a .jsonl file, one article per line") from None
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            if limit is not None and data.read >= limit:
                break
            index, data.read = data.read, data.read + 1
            record = _record(raw, number, index, text_field, summary_field)
            if isinstance(record, str):
                warn(f"{path}:{number}: {record} (skipped)")
                data.skipped.append({"line": number, "reason": record})
            else:
                data.records.append(record)
    return data


def _record(raw: bytes, number: int, index: int, text_field: str, summary_field: str) -> Record | str:
    """The record of one line, or why it cannot be used."""
    try:
        row = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return "not UTF-8"
    except json.JSONDecodeError as err:
        return f"not valid JSON ({err.msg} at column {err.colno})"
    if not isinstance(row, dict):
        return f"not a JSON object (a {type(row).__name__})"
    fields = ", ".join(row) or "none"
    text = row.get(text_field)
    if not isinstance(text, str) or not text.strip():
        return f"no article text in field {text_field!r} (fields: {fields})"
    refs = row.get(summary_field)
    refs = [refs] if isinstance(refs, str) else refs
    if not isinstance(refs, list) or not [r for r in refs if isinstance(r, str) and r.strip()]:
        return f"no reference summary in field {summary_field!r} (a string or a list of strings; fields: {fields})"
    from tarjama.documents import InputError
    from tarjama.pipeline import prepare_article

    try:
        prepared = prepare_article(text)  # what the pipeline would refuse, refused here, before any model loads
    except InputError as err:
        return f"article refused: {err}"
    return Record(number, str(row.get("id") or f"line {number}"), text,
                  [r for r in refs if isinstance(r, str) and r.strip()], index, prepared.paragraphs)


# -- models -----------------------------------------------------------------------------------------------


@dataclass
class Models:
    """The pipeline of one eval run and the models it loaded (described for the report)."""

    pipe: Any
    info: list[dict[str, str]]
    demo: bool


def load(models: str | None, backend: str | None, translate_to: str | None, summarize: bool,
         quiet: bool) -> Models:
    """Load only the models the run needs (no translation memory: an evaluation measures the models and
    never fills the editors' memory with test sentences), saying so on stderr."""
    from tarjama.pipeline import Pipeline

    pipe = Pipeline.from_config(models, backend=backend, memory=False)
    specs = [pipe.registry.translation_spec(translate_to)] if translate_to else []  # ConfigError: unknown target
    if summarize:
        specs.insert(0, pipe.registry.summarization_spec())
    started = time.perf_counter()
    if not quiet:
        print(f"tarjama: loading models ({', '.join(s.key for s in specs)}) …", file=sys.stderr, flush=True)
    info = []
    for spec in specs:
        engine = pipe.engines.get(spec, backend=pipe.backend)
        info.append({"task": spec.task, "key": spec.key, "model": spec.model, "revision": spec.revision,
                     "engine": engine.name, "device": engine.device, "compute_type": engine.compute_type})
    if not quiet:
        print(f"tarjama: models ready in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    if pipe.registry.demo:
        from tarjama.result import DEMO_NOTICE

        print(f"tarjama: DEMO MODE: {DEMO_NOTICE}", file=sys.stderr)
    return Models(pipe, info, pipe.registry.demo)


class Bar:
    """A tqdm bar on stderr, only when it is a terminal and not --quiet (like `tarjama translate`)."""

    def __init__(self, desc: str, unit: str, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.desc, self.unit = desc, unit
        self.bar: Any = None

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, leave=False,
                            dynamic_ncols=True)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def translate_sentences(translator: Any, sentences: list[str], desc: str, quiet: bool) -> list[Any]:
    bar = Bar(desc, "piece", quiet)
    try:
        return translator.translate(sentences, bar.update)
    finally:
        bar.close()


def translate_texts(translator: Any, systems: dict[str, list[str]], desc: str, quiet: bool) -> dict[str, list[str]]:
    """Whole texts (summaries) translated sentence by sentence, as the pipeline translates a summary; every
    system's texts in one translator call (shared batches)."""
    from tarjama.translate.segment import segment

    per_text = [[s.text for s in segment(t).sentences()] for texts in systems.values() for t in texts]
    out = translate_sentences(translator, [s for sents in per_text for s in sents], desc, quiet)
    joined, i = [], 0
    for sents in per_text:
        joined.append(" ".join(o.text for o in out[i : i + len(sents)] if o.text))
        i += len(sents)
    result, start = {}, 0
    for name, texts in systems.items():
        result[name], start = joined[start : start + len(texts)], start + len(texts)
    return result


# -- eval mt ----------------------------------------------------------------------------------------------


@dataclass
class MtRun:
    src: str | None
    ref: str
    to: str | None
    hyp: str | None = None
    limit: int | None = None
    glossary: str | None = None
    save: str | None = None
    models: str | None = None
    backend: str | None = None
    quiet: bool = False


def run_mt(run: MtRun) -> dict[str, Any]:
    """Translate the source (or read --hyp), score it, return the report."""
    if run.limit is not None and run.limit < 1:
        raise EvalError("--limit must be at least 1", 2)
    refs = read_lines(run.ref, "reference")
    srcs = read_lines(run.src, "source") if run.src else None
    hyps = read_lines(run.hyp, "hypotheses") if run.hyp else None
    files = [("reference", run.ref, len(refs))]
    files += [("source", run.src, len(srcs))] if srcs is not None else []
    files += [("hypotheses", run.hyp, len(hyps))] if hyps is not None else []
    n = check_counts(files, run.limit)
    lines = [i for i in range(n) if refs[i].strip()]  # 0-based indices of the lines scored
    if not lines:
        raise EvalError(f"nothing to score: the first {n} reference lines of {run.ref} are all blank")
    models: Models | None = None
    flags: list[tuple[str, ...]] | None = None
    if hyps is None:
        assert srcs is not None and run.to
        models = load(run.models, run.backend, run.to, summarize=False, quiet=run.quiet)
        kwargs: dict[str, Any] = {}
        if run.glossary:  # read (and its unusable rows reported) by the command before any model loaded
            from tarjama.translate.glossary import load_glossary

            kwargs["glossary"] = load_glossary(run.glossary)
        translator = models.pipe.translator(run.to, **kwargs)
        out = translate_sentences(translator, [srcs[i] for i in lines], f"translate {run.to}", run.quiet)
        by_line = dict(zip(lines, out))
        hyps = [by_line[i].text if i in by_line else "" for i in range(n)]
        flags = [tuple(str(f) for f in o.flags) for o in out]
        if run.save:
            write_lines(run.save, hyps)
    scored_hyps, scored_refs = [hyps[i] for i in lines], [refs[i] for i in lines]
    scores = metrics.mt_scores(scored_hyps, scored_refs)
    sentence = [metrics.sentence_chrf(h, r) for h, r in zip(scored_hyps, scored_refs)]
    worst = sorted(range(len(lines)), key=lambda k: (sentence[k], lines[k]))[:WORST]
    report: dict[str, Any] = {
        "task": "mt",
        "settings": {"src": run.src, "ref": run.ref, "hyp": run.hyp, "to": run.to, "limit": run.limit,
                     "glossary": run.glossary, "models": None if models is None else models.info,
                     "backend": run.backend, "memory": False, "demo": bool(models and models.demo)},
        "lines": n,
        "scored": len(lines),
        "skipped_blank_ref": [i + 1 for i in range(n) if not refs[i].strip()],
        "scores": {name: round(score, 4) for name, (score, _) in scores.items()},
        "signatures": {name: signature for name, (_, signature) in scores.items()},
        "flags": flag_report(flags),
        "worst": [{"line": lines[k] + 1, "chrf": round(sentence[k], 2), "source": srcs[lines[k]] if srcs else None,
                   "hypothesis": scored_hyps[k], "reference": scored_refs[k]} for k in worst],
    }
    if run.save or run.hyp:
        report["hypotheses_file"] = run.save or run.hyp
    else:
        report["hypotheses"] = hyps
    return report


def flag_report(flags: list[tuple[str, ...]] | None) -> dict[str, Any]:
    """How many scored sentences carry each flag (every flag named, zeros included); ``flagged`` +
    ``unflagged`` = ``sentences``.  None: the hypotheses were read from a file, which holds no flags."""
    if flags is None:
        return {"available": False, "note": "flags are unavailable: the hypotheses were read from --hyp, not "
                "translated in this run"}
    from tarjama.translate.flags import Flag

    counts = Counter(f for fs in flags for f in set(fs))
    flagged = sum(1 for fs in flags if fs)
    return {"available": True, "sentences": len(flags), "flagged": flagged, "unflagged": len(flags) - flagged,
            "counts": {**{f.value: counts.get(f.value, 0) for f in Flag}, **counts}}


def render_mt(report: dict[str, Any]) -> str:
    s = report["settings"]
    out = [f"tarjama eval mt: {s['hyp'] or s['src']} → {s['to'] or '?'} against {s['ref']}: "
           f"{report['scored']} lines scored" + (f" ({len(report['skipped_blank_ref'])} blank reference lines "
                                                 "skipped)" if report["skipped_blank_ref"] else "")]
    if s["demo"]:
        out.append("DEMO models: the translations are noise, so are these scores")
    out += [f"model: {_describe(m)}" for m in s["models"] or []]
    if s["glossary"]:
        out.append(f"glossary: {s['glossary']}")
    out.append("")
    for name, title in metrics.MT_NAMES.items():
        out.append(f"{title:<7} {report['scores'][name]:6.2f}   {report['signatures'][name]}")
    out.append("")
    flags = report["flags"]
    if not flags["available"]:
        out.append(flags["note"])
    else:
        out.append(f"flags: {flags['flagged']} of {flags['sentences']} sentences carry at least one "
                   f"({flags['unflagged']} none); sentences per flag:")
        shown = [(k, v) for k, v in flags["counts"].items() if v]
        out += [f"  {k:<16} {v}" for k, v in shown] or ["  (none)"]
    out += ["", f"worst {len(report['worst'])} lines by sentence chrF:"]
    for w in report["worst"]:
        out.append(f"  line {w['line']}  chrF {w['chrf']:.1f}")
        if w["source"] is not None:
            out.append(f"    src: {_clip(w['source'])}")
        out += [f"    hyp: {_clip(w['hypothesis'])}", f"    ref: {_clip(w['reference'])}"]
    return "\n".join(out) + "\n"


# -- eval summary -----------------------------------------------------------------------------------------


@dataclass
class SummaryRun:
    data: str
    text_field: str = "text"
    summary_field: str = "summary"
    lang: str = "ar"
    hyp: str | None = None
    limit: int | None = None
    save: str | None = None
    models: str | None = None
    backend: str | None = None
    quiet: bool = False
    warn: Warn = stderr_warn


def run_summary(run: SummaryRun) -> dict[str, Any]:
    """Summarize every usable article (or read --hyp), score the summaries and the lead baselines."""
    if run.limit is not None and run.limit < 1:
        raise EvalError("--limit must be at least 1", 2)
    data = read_data(run.data, run.text_field, run.summary_field, run.limit, run.warn)
    given = None
    if run.hyp:
        given = read_lines(run.hyp, "summaries")
        if len(given) != data.read:
            raise EvalError(f"line counts differ: summaries {run.hyp} has {len(given)} lines, data {run.data} has "
                            f"{data.read} records{' (within --limit)' if run.limit else ''}: one summary per "
                            "record, in order, skipped records included")
    if not data.records:
        raise EvalError(f"nothing to score: none of the {data.read} records of {run.data} is usable "
                        f"({len(data.skipped)} skipped; see the warnings above)")
    records = data.records
    translate_to = None if run.lang == "ar" else run.lang
    models: Models | None = None
    leads: dict[str, list[str]] | None = {f"lead-{k}": [metrics.lead(r.text, k) for r in records] for k in LEADS}
    arabic: list[str] | None = None
    note = ""
    if given is not None:
        systems = {"model": [given[r.index] for r in records]}
        if translate_to:
            leads, note = None, (f"lead baselines need translating into {run.lang}: run without --hyp to score "
                                 "them")
    else:
        models = load(run.models, run.backend, translate_to, summarize=True, quiet=run.quiet)
        arabic = summarize(models.pipe, records, run.quiet)
        systems = {"model": arabic}
        if translate_to:
            translated = translate_texts(models.pipe.translator(translate_to), {**systems, **(leads or {})},
                                         f"translate {run.lang}", run.quiet)
            systems, leads = {"model": translated.pop("model")}, translated
        if run.save:
            by_index = {r.index: s for r, s in zip(records, systems["model"])}
            write_lines(run.save, [by_index.get(i, "") for i in range(data.read)])
    systems.update(leads or {})
    scores = {name: [metrics.rouge(h, r.references) for h, r in zip(texts, records)] for name, texts in
              systems.items()}
    report: dict[str, Any] = {
        "task": "summary",
        "settings": {"data": run.data, "text_field": run.text_field, "summary_field": run.summary_field,
                     "lang": run.lang, "hyp": run.hyp, "limit": run.limit,
                     "models": None if models is None else models.info, "backend": run.backend, "memory": False,
                     "demo": bool(models and models.demo), "tokenizer": metrics.TOKENIZER, "stemming": False,
                     "rouge": "F1, precision and recall x100, mean over documents; ROUGE-L: longest common "
                              "subsequence over the whole summary (rougeL, not rougeLsum); several references: "
                              "the best one per metric",
                     "leads": "the article's first 1 / 3 sentences (tarjama's segmenter, after its cleaning)"
                              + (f", translated into {run.lang}" if translate_to and given is None else "")},
        "records": data.read,
        "scored": len(records),
        "skipped": {"count": len(data.skipped), "rows": data.skipped},
        "scores": {name: _percent(metrics.mean_rouge(s)) for name, s in scores.items()},
        "mean_tokens": {**{name: _mean_tokens(texts) for name, texts in systems.items()},
                        "reference": _mean_tokens([ref for r in records for ref in r.references])},
        "documents": [{"id": r.id, "line": r.line, **{k: round(100 * scores["model"][i][k].fmeasure, 2)
                                                      for k in metrics.ROUGE_KEYS}}
                      for i, r in enumerate(records)],
    }
    if note:
        report["note"] = note
    if run.save or run.hyp:
        report["summaries_file"] = run.save or run.hyp
    else:
        report["summaries"] = systems["model"]
        if translate_to:
            report["summaries_ar"] = arabic
    return report


def summarize(pipe: Any, records: Sequence[Record], quiet: bool) -> list[str]:
    """Arabic summaries from each article's own segmentation (as the pipeline makes them)."""
    summarizer = pipe.summarizer(many=True)
    bar = Bar("summarize", "article", quiet)
    out: list[str] = []
    try:
        for start in range(0, len(records), SUMMARY_CHUNK):
            chunk = records[start : start + SUMMARY_CHUNK]
            summaries = summarizer.summarize_segmented([r.paragraphs for r in chunk])
            out += [s.text for s in summaries]
            bar.update(len(out), len(records))
    finally:
        bar.close()
    return out


def render_summary(report: dict[str, Any]) -> str:
    s = report["settings"]
    skipped = report["skipped"]["count"]
    out = [f"tarjama eval summary: {s['data']}: {report['scored']} of {report['records']} records scored"
           + (f" ({skipped} skipped)" if skipped else "")
           + f"; references: field {s['summary_field']!r} ({s['lang']})"]
    if s["demo"]:
        out.append("DEMO models: the summaries are noise, so are these scores")
    out += [f"model: {_describe(m)}" for m in s["models"] or []]
    if s["hyp"]:
        out.append(f"model summaries read from {s['hyp']}")
    out += ["ROUGE F1 x100, mean over documents (--json adds precision and recall); ROUGE-L: longest common "
            "subsequence over the whole summary", f"tokens: {s['tokenizer']}", f"lead-k: {s['leads']}", ""]
    out.append(f"{'system':<10}" + "".join(f"{metrics.ROUGE_NAMES[k]:>9}" for k in metrics.ROUGE_KEYS)
               + f"{'tokens':>9}")
    for name, score in report["scores"].items():
        out.append(f"{name:<10}" + "".join(f"{score[k]['f']:9.2f}" for k in metrics.ROUGE_KEYS)
                   + f"{report['mean_tokens'][name]:9.1f}")
    out.append(f"{'reference':<10}" + " " * 27 + f"{report['mean_tokens']['reference']:9.1f}")
    if report.get("note"):
        out.append(report["note"])
    return "\n".join(out) + "\n"


# -- helpers ----------------------------------------------------------------------------------------------


def _percent(scores: dict[str, metrics.PRF]) -> dict[str, dict[str, float]]:
    return {k: {"p": round(100 * v.precision, 4), "r": round(100 * v.recall, 4), "f": round(100 * v.fmeasure, 4)}
            for k, v in scores.items()}


def _mean_tokens(texts: Sequence[str]) -> float:
    return round(sum(len(metrics.tokenize(t)) for t in texts) / len(texts), 2) if texts else 0.0


def _describe(info: dict[str, str]) -> str:
    return (f"{info['key']} {info['model']} @ {info['revision'][:12]} ({info['engine']} {info['compute_type']} "
            f"{info['device']})")


def _clip(text: str, width: int = 300) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
