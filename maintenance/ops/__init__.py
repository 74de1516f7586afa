"""Running the platform: settings, the model lab's set-up, jobs, retention, audit, metrics."""
