//! Transfers that stop moving. The SDK's stalled-stream protection watches
//! response bodies, and its per-attempt limit bounds a whole call; neither
//! sees an upload stall, because a request body held in memory (every zip
//! ferry sends) is handed to hyper in one piece. Every HTTP call ferry makes
//! goes through [`guarded`]: the body is fed to hyper a frame at a time, so
//! a frame taken is a frame the socket accepted (give or take hyper's and the
//! kernel's buffers), and an attempt is abandoned as a timeout, which the
//! SDK and the exactly-once writes retry, when its upload moves nothing for
//! [`Limits::stall`] or its answer does not start within [`Limits::answer`]
//! of the last byte sent.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::Instant;

use crate::sdk::fail::AwsError;

/// What hyper is handed at a time; bodies no larger go as they are.
const FRAME: usize = 64 * 1024;

/// How long a transfer may stand still, each overridable in the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `FERRY_STALL_SECS` (20): an upload, or a response body, that moves no
    /// byte for this long is abandoned.
    pub stall: Duration,
    /// `FERRY_ANSWER_SECS` (120): the answer must start this soon after the
    /// request was sent.
    pub answer: Duration,
    /// `FERRY_ATTEMPT_SECS` (300): the whole of one attempt.
    pub attempt: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            stall: Duration::from_secs(20),
            answer: Duration::from_secs(120),
            attempt: Duration::from_secs(300),
        }
    }
}

impl Limits {
    pub fn from_env() -> Result<Self, AwsError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, AwsError> {
        let mut limits = Limits::default();
        for (name, slot) in [
            ("FERRY_STALL_SECS", &mut limits.stall),
            ("FERRY_ANSWER_SECS", &mut limits.answer),
            ("FERRY_ATTEMPT_SECS", &mut limits.attempt),
        ] {
            let Some(value) = get(name) else { continue };
            match value.trim().parse::<u64>() {
                Ok(seconds @ 1..=3600) => *slot = Duration::from_secs(seconds),
                _ => {
                    return Err(AwsError::Setting {
                        name,
                        value,
                        why: "a whole number of seconds from 1 to 3600".into(),
                    })
                }
            }
        }
        Ok(limits)
    }
}

/// `inner` with every attempt watched by `limits`.
pub fn guarded(inner: SharedHttpClient, limits: Limits) -> SharedHttpClient {
    SharedHttpClient::new(Guarded { inner, limits })
}

#[derive(Debug)]
struct Guarded {
    inner: SharedHttpClient,
    limits: Limits,
}

impl HttpClient for Guarded {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(GuardedConnector {
            inner: self.inner.http_connector(settings, components),
            limits: self.limits,
        })
    }
}

#[derive(Debug)]
struct GuardedConnector {
    inner: SharedHttpConnector,
    limits: Limits,
}

impl HttpConnector for GuardedConnector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        let total = request.body().bytes().map_or(0, <[u8]>::len);
        let progress = Arc::new(Mutex::new(Progress::new(total, Instant::now())));
        if total > FRAME {
            let data = Bytes::copy_from_slice(request.body().bytes().unwrap_or_default());
            *request.body_mut() = SdkBody::from_body_1_x(Framed {
                data,
                sent: 0,
                progress: progress.clone(),
            });
        }
        let call = self.inner.call(request);
        let limits = self.limits;
        HttpConnectorFuture::new(async move {
            tokio::pin!(call);
            loop {
                let deadline = lock(&progress).deadline(limits);
                tokio::select! {
                    answer = &mut call => return answer,
                    () = tokio::time::sleep_until(deadline) => {
                        if let Some(why) = lock(&progress).overdue(limits, Instant::now()) {
                            return Err(ConnectorError::timeout(why.into()));
                        }
                    }
                }
            }
        })
    }
}

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How far one request's body has gone.
#[derive(Debug)]
struct Progress {
    total: usize,
    sent: usize,
    /// When the last frame was taken (the call's start before the first).
    moved: Instant,
}

impl Progress {
    fn new(total: usize, now: Instant) -> Self {
        // A body sent in one piece counts as sent at once.
        let sent = if total > FRAME { 0 } else { total };
        Progress {
            total,
            sent,
            moved: now,
        }
    }

    fn done(&self) -> bool {
        self.sent >= self.total
    }

    fn deadline(&self, limits: Limits) -> Instant {
        self.moved
            + if self.done() {
                limits.answer
            } else {
                limits.stall
            }
    }

    /// Why the attempt is abandoned at `now`, if it is.
    fn overdue(&self, limits: Limits, now: Instant) -> Option<String> {
        if now < self.deadline(limits) {
            return None;
        }
        Some(if self.done() {
            format!(
                "no answer within {} s of sending the request (FERRY_ANSWER_SECS)",
                limits.answer.as_secs()
            )
        } else {
            format!(
                "the upload stalled: {} of {} bytes sent, then none for {} s (FERRY_STALL_SECS)",
                self.sent,
                self.total,
                limits.stall.as_secs()
            )
        })
    }
}

/// A request body handed out a frame at a time, noting each frame taken.
struct Framed {
    data: Bytes,
    sent: usize,
    progress: Arc<Mutex<Progress>>,
}

impl http_body::Body for Framed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.sent >= this.data.len() {
            return Poll::Ready(None);
        }
        let end = (this.sent + FRAME).min(this.data.len());
        let frame = this.data.slice(this.sent..end);
        this.sent = end;
        let mut progress = lock(&this.progress);
        progress.sent = end;
        progress.moved = Instant::now();
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.sent) as u64)
    }
}

#[cfg(test)]
#[path = "stall_tests.rs"]
mod tests;
