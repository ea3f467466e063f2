"""A trivial workflow for infrastructure tests."""

from temporalio import workflow


@workflow.defn
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return text
