"""Long documents made in the background (jobs/runner.py): a progress bar and a download when
done, instead of a request that waits (2,000 delegate cards take about half a minute)."""
