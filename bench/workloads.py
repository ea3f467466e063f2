"""The ceiling workload: one workflow, one activity (workflows cannot live in __main__)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop(value: int) -> int:
    return value


@workflow.defn(name="BenchOneActivity")
class OneActivity:
    @workflow.run
    async def run(self, value: int) -> int:
        result: int = await workflow.execute_activity(noop, value, start_to_close_timeout=timedelta(seconds=10))
        return result
