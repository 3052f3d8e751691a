"""A what-if from the workbench runs on the CLI's default worker count (all cores), not on one."""
from contextlib import closing

from serve_server import AS_OF, wait_for_job

from cadre_policy.whatif.parallel import default_workers


def test_a_whatif_job_runs_on_as_many_workers_as_the_cli(workbench_server):
    with closing(workbench_server.client("qj")) as qj:
        started = qj.post("/api/v1/whatif", json={"set": ["supervision.admonish_ratio=3/10"], "as_of": AS_OF})
        assert started.status_code == 202, started.text
        job = wait_for_job(qj, started.json())
        assert job["status"] == "done", job
        served = qj.get(job["result"]).json()
    assert served["workers"] == default_workers()
