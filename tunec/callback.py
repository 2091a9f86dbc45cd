"""``Callback``: hooks into the experiment loop (``ray.tune.callback``, 1.x).

A user passes instances in ``tune.run(callbacks=[...])`` (or
``RunConfig(callbacks=...)``, spec §16).  The driver calls the hooks on its
callback thread (tunec/_callbacks.py), in Ray's order, from the engine's
record of each trial's lifecycle; trials never wait for them.  Every hook
receives keyword ``**info`` so that hooks added later do not break old
subclasses.  ``iteration`` counts the batches of events handed to the hooks
(one "step" each, between ``on_step_begin`` and ``on_step_end``) and
``trials`` is the list of ``Trial`` objects, one object per trial for the
whole run, as each was when the event happened.
"""

__all__ = ["Callback"]


class Callback:
    """Base class: every hook does nothing; override the ones you need."""

    def setup(self, stop=None, num_samples=None, total_num_samples=None, **info):
        """Called once before the experiment starts."""

    def on_step_begin(self, iteration, trials, **info):
        """Called at the start of each event-loop step."""

    def on_step_end(self, iteration, trials, **info):
        """Called at the end of each event-loop step."""

    def on_trial_start(self, iteration, trials, trial, **info):
        """Called after a trial was started (or restarted)."""

    def on_trial_restore(self, iteration, trials, trial, **info):
        """Called after a trial was restored from a checkpoint."""

    def on_trial_save(self, iteration, trials, trial, **info):
        """Called after a trial saved a checkpoint."""

    def on_trial_result(self, iteration, trials, trial, result, **info):
        """Called after a trial reported ``result`` (the nested result dict)."""

    def on_trial_complete(self, iteration, trials, trial, **info):
        """Called after a trial finished successfully."""

    def on_trial_recover(self, iteration, trials, trial, **info):
        """Called after a trial failed and will be retried (max_failures)."""

    def on_trial_error(self, iteration, trials, trial, **info):
        """Called after a trial failed for good (``trial.error_msg`` says why)."""

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        """Called after a trial checkpoint was registered (``checkpoint.value``
        is its path)."""

    def on_experiment_end(self, trials, **info):
        """Called once after the experiment ended (all trials finished or
        stopped, or the run was interrupted or failed)."""

    def get_state(self):
        """Ray 2.x: state to save with the experiment (tunec saves none)."""
        return None

    def set_state(self, state):
        """Ray 2.x: restores what get_state returned."""
