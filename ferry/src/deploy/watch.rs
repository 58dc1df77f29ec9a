//! The canary's bake: reads the errors since the canary began, every poll,
//! until the bake is over (complete) or they cross the threshold (revert, at
//! once). The errors are the new versions' own (Lambda's `Errors` of each
//! function for the version the weighted alias executed) and the stage's
//! `5XXError` answers. Where they come from and how time passes are seams,
//! so the judgement is unit-tested with a fake source and a fake clock.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;

/// What the metrics say since the canary began.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Observed {
    /// Function -> errors of its canary version.
    pub errors: BTreeMap<String, f64>,
    /// Function -> invocations of its canary version.
    pub invocations: BTreeMap<String, f64>,
    /// The stage's 5XX answers, whichever version made them.
    pub stage_5xx: f64,
}

impl Observed {
    fn function_errors(&self) -> f64 {
        self.errors.values().sum()
    }

    /// What happened since `base` was read.
    fn since(&self, base: &Observed) -> Observed {
        let minus = |now: &BTreeMap<String, f64>, then: &BTreeMap<String, f64>| {
            now.iter()
                .map(|(k, v)| (k.clone(), (v - then.get(k).unwrap_or(&0.0)).max(0.0)))
                .collect()
        };
        Observed {
            errors: minus(&self.errors, &base.errors),
            invocations: minus(&self.invocations, &base.invocations),
            stage_5xx: (self.stage_5xx - base.stage_5xx).max(0.0),
        }
    }
}

/// Where the numbers come from (CloudWatch on the AWS side).
pub trait MetricSource {
    /// Totals from the canary's start until now; `Err` says why not.
    fn observe(&mut self) -> impl Future<Output = Result<Observed, String>>;
}

/// How time passes (tokio's clock on the AWS side).
pub trait Clock {
    /// Time since the canary began.
    fn elapsed(&self) -> Duration;
    fn sleep(&mut self, d: Duration) -> impl Future<Output = ()>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchSettings {
    pub bake: Duration,
    pub poll: Duration,
    pub max_errors: u32,
}

/// Reads that may fail in a row before the canary is reverted: without
/// numbers it cannot be judged, and a revert is the safe side.
pub const MAX_FAILED_READS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    Complete { observed: Observed },
    Revert { reason: String, observed: Observed },
}

/// Bakes: observes at the start, every `poll`, and once the bake is over.
/// The first reading is the baseline the others count from: CloudWatch
/// sums whole minutes, so the minute the canary began may hold errors from
/// before it (of the stage, or of this very version in an earlier canary:
/// Lambda publishes an unchanged function as the version it was).
/// `progress` sees each count.
pub async fn watch(
    source: &mut impl MetricSource,
    clock: &mut impl Clock,
    settings: WatchSettings,
    mut progress: impl FnMut(Duration, &Observed),
) -> Verdict {
    let mut last = Observed::default();
    let mut base = None;
    let mut failed = 0;
    let mut last_error = String::new();
    loop {
        let elapsed = clock.elapsed();
        match source.observe().await {
            Ok(total) => {
                failed = 0;
                let observed = total.since(base.get_or_insert(total.clone()));
                progress(elapsed, &observed);
                if let Some(reason) = breach(&observed, settings.max_errors) {
                    return Verdict::Revert { reason, observed };
                }
                last = observed;
            }
            Err(e) => {
                // Without a first reading, count from zero: errors from
                // before the canary may then revert it, never hide.
                base.get_or_insert_with(Observed::default);
                failed += 1;
                last_error = e;
                if failed >= MAX_FAILED_READS {
                    return Verdict::Revert {
                        reason: format!(
                            "the metrics could not be read {failed} times in a row ({last_error})"
                        ),
                        observed: last,
                    };
                }
            }
        }
        if elapsed >= settings.bake {
            if failed > 0 {
                return Verdict::Revert {
                    reason: format!(
                        "the metrics could not be read at the bake's end ({last_error})"
                    ),
                    observed: last,
                };
            }
            return Verdict::Complete { observed: last };
        }
        let left = settings.bake.saturating_sub(elapsed);
        clock.sleep(settings.poll.min(left)).await;
    }
}

/// Why these numbers revert the canary, if they do.
fn breach(o: &Observed, max_errors: u32) -> Option<String> {
    let max = f64::from(max_errors);
    let errors = o.function_errors();
    if errors > max {
        let each: Vec<String> = o
            .errors
            .iter()
            .filter(|(_, n)| **n > 0.0)
            .map(|(f, n)| format!("{f}: {n}"))
            .collect();
        return Some(format!(
            "the new versions failed {errors} time(s) ({}), more than the {max_errors} allowed",
            each.join(", ")
        ));
    }
    if o.stage_5xx > max {
        return Some(format!(
            "the stage answered 5XX {} time(s), more than the {max_errors} allowed",
            o.stage_5xx
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers each observation from a script, the last one repeating.
    struct Script {
        answers: Vec<Result<Observed, String>>,
        calls: usize,
    }

    impl MetricSource for Script {
        async fn observe(&mut self) -> Result<Observed, String> {
            let i = self.calls.min(self.answers.len() - 1);
            self.calls += 1;
            self.answers[i].clone()
        }
    }

    /// Virtual time: a sleep passes at once.
    #[derive(Default)]
    struct Fake {
        now: Duration,
    }

    impl Clock for Fake {
        fn elapsed(&self) -> Duration {
            self.now
        }
        async fn sleep(&mut self, d: Duration) {
            self.now += d;
        }
    }

    fn errors(f: &str, n: f64) -> Observed {
        Observed {
            errors: [(f.to_owned(), n)].into(),
            invocations: [(f.to_owned(), 10.0 * n)].into(),
            stage_5xx: 0.0,
        }
    }

    const SETTINGS: WatchSettings = WatchSettings {
        bake: Duration::from_secs(600),
        poll: Duration::from_secs(60),
        max_errors: 0,
    };

    fn run(
        answers: Vec<Result<Observed, String>>,
        settings: WatchSettings,
    ) -> (Verdict, Fake, usize) {
        let mut source = Script { answers, calls: 0 };
        let mut clock = Fake::default();
        let verdict = block_on(watch(&mut source, &mut clock, settings, |_, _| {}));
        (verdict, clock, source.calls)
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_quiet_bake_completes_when_it_is_over() {
        let (verdict, clock, calls) = run(vec![Ok(errors("f", 0.0))], SETTINGS);
        assert_eq!(
            verdict,
            Verdict::Complete {
                observed: errors("f", 0.0)
            }
        );
        assert_eq!(clock.now, Duration::from_secs(600));
        // At 0, every minute, and at the end.
        assert_eq!(calls, 11);
    }

    #[test]
    fn errors_from_before_the_canary_do_not_count() {
        let mut before = errors("f", 3.0);
        before.stage_5xx = 2.0;
        let (verdict, ..) = run(vec![Ok(before.clone())], SETTINGS);
        assert!(matches!(verdict, Verdict::Complete { .. }), "{verdict:?}");
        // Counted from the first reading on.
        let mut later = errors("f", 4.0);
        later.stage_5xx = 2.0;
        let (verdict, ..) = run(vec![Ok(before), Ok(later)], SETTINGS);
        assert!(
            matches!(&verdict, Verdict::Revert { reason, .. } if reason.contains("failed 1 time(s) (f: 1)")),
            "{verdict:?}"
        );
    }

    #[test]
    fn an_error_of_a_new_version_reverts_at_once() {
        let answers = vec![
            Ok(errors("f", 0.0)),
            Ok(errors("f", 0.0)),
            Ok(errors("f", 2.0)),
        ];
        let (verdict, clock, calls) = run(answers, SETTINGS);
        let Verdict::Revert { reason, observed } = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(
            reason,
            "the new versions failed 2 time(s) (f: 2), more than the 0 allowed"
        );
        assert_eq!(observed, errors("f", 2.0));
        assert_eq!((clock.now, calls), (Duration::from_secs(120), 3));
    }

    #[test]
    fn errors_up_to_the_allowance_complete() {
        let settings = WatchSettings {
            max_errors: 2,
            ..SETTINGS
        };
        let (verdict, ..) = run(vec![Ok(errors("f", 0.0)), Ok(errors("f", 2.0))], settings);
        assert!(matches!(verdict, Verdict::Complete { .. }), "{verdict:?}");
    }

    #[test]
    fn the_stages_5xx_answers_revert_too() {
        let mut o = errors("f", 0.0);
        o.stage_5xx = 1.0;
        let (verdict, ..) = run(vec![Ok(errors("f", 0.0)), Ok(o)], SETTINGS);
        assert!(
            matches!(&verdict, Verdict::Revert { reason, .. } if reason.contains("5XX 1 time(s)")),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_failed_read_is_tried_again_but_three_in_a_row_revert() {
        let blip = vec![Err("throttled".into()), Ok(errors("f", 0.0))];
        let (verdict, ..) = run(blip, SETTINGS);
        assert!(matches!(verdict, Verdict::Complete { .. }), "{verdict:?}");
        let (verdict, clock, calls) = run(vec![Err("denied".into())], SETTINGS);
        assert_eq!(
            verdict,
            Verdict::Revert {
                reason: "the metrics could not be read 3 times in a row (denied)".into(),
                observed: Observed::default()
            }
        );
        assert_eq!((clock.now, calls), (Duration::from_secs(120), 3));
    }

    #[test]
    fn without_a_first_reading_errors_count_from_zero() {
        let answers = vec![Err("throttled".into()), Ok(errors("f", 1.0))];
        let (verdict, ..) = run(answers, SETTINGS);
        assert!(matches!(verdict, Verdict::Revert { .. }), "{verdict:?}");
    }

    #[test]
    fn a_read_that_fails_at_the_end_reverts() {
        let short = WatchSettings {
            bake: Duration::from_secs(60),
            ..SETTINGS
        };
        let (verdict, ..) = run(vec![Ok(errors("f", 0.0)), Err("timeout".into())], short);
        assert!(
            matches!(&verdict, Verdict::Revert { reason, .. } if reason.contains("at the bake's end")),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_bake_shorter_than_a_poll_sleeps_only_the_bake() {
        let short = WatchSettings {
            bake: Duration::from_secs(5),
            ..SETTINGS
        };
        let (verdict, clock, calls) = run(vec![Ok(errors("f", 0.0))], short);
        assert!(matches!(verdict, Verdict::Complete { .. }));
        assert_eq!((clock.now, calls), (Duration::from_secs(5), 2));
    }
}
