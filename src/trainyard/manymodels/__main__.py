"""A many-models run's driver (its command): partitions as child runs on their compute, or, on a
Ray target, as Ray tasks of this one Ray job (``on_ray.py``)."""

from __future__ import annotations

from trainyard.compute.names import in_ray_job_on
from trainyard.manymodels.driver import Driver
from trainyard.tracking import TrackedRun, current_run


def main() -> None:
    run = current_run(TrackedRun)
    driver = Driver(run)
    group, settings = driver.group, driver.group.settings
    driver.say(
        f"many models: {len(group.partitions)} partition(s) by "
        f"{', '.join(settings.partition_column_names)}, "
        f"{'AutoML ' + str(settings.task) if settings.task else 'your script'}, "
        f"{settings.max_concurrent_partitions} at a time; models registered as {settings.group_model_name}"
    )
    if in_ray_job_on(settings.compute):
        from trainyard.manymodels.on_ray import TaskDispatch

        TaskDispatch(driver).loop()
    else:
        driver.loop()
    driver.finish()
    run.flush()


if __name__ == "__main__":
    main()
