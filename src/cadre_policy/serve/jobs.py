"""What-if jobs: each runs in its own process, so checks served meanwhile never wait for it.

The server checks the request first (the draft loads, the date and unit are right)
and answers 202 with a job id; the job process runs the same what-if as the CLI,
reports progress through a queue, writes the JSON and HTML reports, and stores the
decision record. One job runs at a time; others wait in order.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field

from cadre_policy.i18n import _, using

_CTX = multiprocessing.get_context("spawn")   # a clean interpreter: no server threads or sockets inherited


@dataclass
class Job:
    """One what-if job as the API reports it."""
    id: str
    owner: str
    request: dict
    status: str = "queued"              # queued | running | done | failed
    phase: str = ""                     # while running: read | compute | report | record (said in Chinese by whatif.js and jobs.html)
    done: int = 0
    total: int | None = None
    record: int | None = None
    summary: str = ""                   # when done: the conclusions changed and the reach, in one sentence
    error: dict | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    out_dir: str = ""

    def as_dict(self) -> dict:
        out = {"id": self.id, "status": self.status, "phase": self.phase, "done": self.done, "total": self.total,
               "owner": self.owner, "request": self.request, "record": self.record, "created": self.created,
               "finished": self.finished}
        if self.error:
            out["error"] = self.error
        if self.status == "done":
            out["summary"] = self.summary
            out["result"] = f"/api/v1/jobs/{self.id}/result"
            out["report"] = f"/whatif/jobs/{self.id}/report"
            out["export"] = f"/whatif/jobs/{self.id}/export.xlsx"
        return out

    def path(self, name: str) -> str:
        return os.path.join(self.out_dir, name)


class Jobs:
    """The server's what-if jobs, kept in memory with their reports in a scratch directory.

    Bounded: at most ``per_user`` unfinished jobs of one user and ``total`` of everyone
    (more is a 429), and a job's process is ended after ``seconds``.
    """

    def __init__(self, keep: int = 50, per_user: int = 2, total: int = 8, seconds: float = 1800.0):
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Semaphore(1)
        self._dir = tempfile.mkdtemp(prefix="policy-jobs-")
        self._keep = keep
        self.per_user, self.total, self.seconds = per_user, total, seconds

    def admit(self, owner: str) -> None:
        """Raise 429 when ``owner`` or everyone has as many unfinished jobs as allowed (asked first, before
        the request is prepared, and again when the job is added)."""
        with self._lock:
            self._admit(owner)

    def _admit(self, owner: str) -> None:
        from cadre_policy.serve.problems import Problem
        waiting = [j for j in self._jobs.values() if j.status in ("queued", "running")]
        mine = sum(j.owner == owner for j in waiting)
        if len(waiting) >= self.total or mine >= self.per_user:
            raise Problem(429, f"测算任务已满（您的 {mine} 个，共 {len(waiting)} 个未完成），请稍后再试 "
                               f"too many what-if jobs waiting ({mine} of yours, {len(waiting)} in all); "
                               f"retry when one has finished", "job", headers={"Retry-After": "30"})

    def start(self, owner: str, spec: dict) -> Job:
        job = Job(secrets.token_hex(8), owner, spec["request"])
        job.out_dir = os.path.join(self._dir, job.id)
        with self._lock:
            self._admit(owner)
            os.makedirs(job.out_dir)
            self._jobs[job.id] = job
            self._forget_old()
        threading.Thread(target=self._pump, args=(job, spec), daemon=True, name=f"whatif-{job.id}").start()
        return job

    def of(self, owner: str | None) -> list[Job]:
        """The jobs of ``owner`` (every job with None), newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if owner is None or j.owner == owner]
        return sorted(jobs, key=lambda j: -j.created)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _forget_old(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.finished), key=lambda j: j.finished)
        for job in finished[:max(0, len(finished) - self._keep)]:
            shutil.rmtree(job.out_dir, ignore_errors=True)
            del self._jobs[job.id]

    def _pump(self, job: Job, spec: dict) -> None:
        with self._one_at_a_time:
            job.status = "running"
            queue = _CTX.Queue()
            process = _CTX.Process(target=run_job, args=(spec, job.out_dir, queue), daemon=True)
            process.start()
            deadline = time.time() + self.seconds
            while True:
                try:
                    message = queue.get(timeout=min(0.5, max(0.01, deadline - time.time())))
                except Exception:               # queue.Empty: is the process still there?
                    if time.time() > deadline:
                        process.terminate()
                        with using(spec.get("lang")):         # the language of the one who started it
                            detail = _("the what-if took longer than {n} s and was stopped").format(
                                n=f"{self.seconds:g}")
                        job.status, job.error = "failed", {"detail": detail}
                        break
                    if not process.is_alive():
                        if job.status == "running":
                            with using(spec.get("lang")):
                                detail = _("the what-if process ended unexpectedly")
                            job.status, job.error = "failed", {"detail": detail}
                        break
                    continue
                kind = message[0]
                if kind == "progress":
                    job.done, job.total = message[1], message[2]
                elif kind == "phase":
                    job.phase = message[1]
                elif kind == "summary":
                    job.summary = message[1]
                elif kind == "done":
                    job.record, job.status = message[1], "done"
                    break
                elif kind == "failed":
                    job.status, job.error = "failed", message[1]
                    break
            process.join(5)
            job.phase = ""
            job.finished = time.time()

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def run_job(spec: dict, out_dir: str, queue) -> None:
    """The job process: run the what-if, write result.json, report.html and result.xlsx, store the record (in the server's
    language: a spawned process would otherwise choose its own from the locale)."""
    import signal
    signal.signal(signal.SIGTERM, _interrupted)      # the time limit: clean up (its workers, spool) and end
    with using(spec.get("lang")):
        _run_job(spec, out_dir, queue)


def write_workbook(result, prepared, spec: dict, path: str) -> None:
    """The what-if as XLSX (served as /whatif/jobs/{id}/export.xlsx) with its 说明 sheet: exported by the
    job's owner, when the job wrote it (the spool of changes is gone once the job ends)."""
    from cadre_policy.render.tables import write_xlsx
    from cadre_policy.render.whatif import about, sheets
    from cadre_policy.scratch import open_binary
    note = about(result, prepared.draft, prepared.draft_set, prepared.job.baseline, spec["actor"], spec.get("unit"),
                 path=False)
    with open_binary(path + ".part") as out:     # renamed when whole: the export route never serves half a file
        write_xlsx(sheets(result, prepared.draft_set, note), out)
    os.replace(path + ".part", path)


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def _run_job(spec: dict, out_dir: str, queue) -> None:
    from datetime import date
    # the server starts this process as a daemon, so it ends with the server; a daemon may not
    # start the what-if's worker processes, so it stops being one here (the parent still ends it,
    # and the workers end with it: whatif.parallel sets their parent-death signal)
    multiprocessing.current_process().daemon = False

    from cadre_policy.errors import UserError
    from cadre_policy.scratch import open_text, write_text
    try:
        from cadre_policy.store.fact_store import FactStore
        from cadre_policy.load.policyset import load
        from cadre_policy.decisions.decide import record_whatif
        from cadre_policy.render.whatif_html import to_html
        from cadre_policy.whatif import request
        from cadre_policy.render.whatif import document as whatif_document
        queue.put(("phase", "read"))
        baseline = load(spec["policies"])
        with FactStore(spec["db_url"]) as store:
            draft_path = None
            if spec.get("draft") is not None:
                draft_path = os.path.join(out_dir, "draft.yaml")
                write_text(draft_path, spec["draft"])
            prepared = request.prepare(baseline, store, spec["db_url"], draft_path=draft_path,
                                       draft_display=spec["request"].get("draft"), sets=spec.get("set") or (),
                                       as_of=date.fromisoformat(spec["as_of"]) if spec.get("as_of") else None,
                                       unit=spec.get("unit"), engine=spec["engine"], scope=spec.get("scope"),
                                       scope_root=spec.get("scope_root"), reach_cadres=True)
            total = store.count_cadres()
            state = {"done": 0}

            def progress(n, of):
                state["done"] += n
                queue.put(("progress", state["done"], of))
            chunk = max(50, min(1000, total // 20 or 1))
            queue.put(("phase", "compute"))
            result = request.run(prepared, store, spec.get("workers"), chunk, progress)
            queue.put(("phase", "report"))
            try:
                doc = whatif_document(result, prepared)
                with open_text(os.path.join(out_dir, "report.html")) as out:
                    to_html(result, prepared.draft, prepared.draft_set, out, prepared.job.baseline)
                write_workbook(result, prepared, spec, os.path.join(out_dir, "result.xlsx"))
            finally:
                result.close()
            queue.put(("phase", "record"))
            ask = dict(spec["request"], as_of=prepared.job.as_of.isoformat(), reach_cadres=True)
            record_id = record_whatif(store, prepared, doc, spec.get("draft"), actor=spec["actor"],
                                      channel=spec["channel"], request=ask)
            doc["record"] = record_id
            with open_text(os.path.join(out_dir, "result.json")) as out:
                json.dump(doc, out, ensure_ascii=False)
            queue.put(("summary", doc["reach"]["sentence"]))
        queue.put(("done", record_id))
    except UserError as exc:
        queue.put(("failed", {"detail": str(exc), "errors": exc.details()}))
    except Exception as exc:          # reported to the job's owner in one line, never a traceback
        queue.put(("failed", {"detail": f"internal error: {type(exc).__name__}"}))
