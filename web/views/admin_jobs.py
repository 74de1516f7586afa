"""The jobs page's ids (administration)."""

JOBS_TABLE = "jobs-table"
JOBS_TICK = "jobs-tick"
JOBS_FEEDBACK = "jobs-feedback"
JOB_RUN = "job-run"


def job_run(job: str) -> dict[str, object]:
    return {"type": JOB_RUN, "job": job}
