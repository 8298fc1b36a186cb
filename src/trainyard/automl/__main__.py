"""An AutoML run's command (``python -m trainyard.automl``): the fork server starts first, so
that its imports (the learners' libraries: seconds, more on a busy machine) run beside the
driver's own instead of after them, then the driver runs."""

from trainyard.automl.pool import warm_up

if __name__ == "__main__":
    warm_up()
    from trainyard.automl import driver

    driver.main()
