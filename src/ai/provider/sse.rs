//! Drives one answer: send (retrying what may pass), read the server-sent events, and hand
//! each to the wire format's decoder, which turns them into [`ChatEvent`]s.

use super::eventstream::{MAX_EVENT_BYTES, ParseError, Parser};
use super::http::{SendError, Target};
use super::status::Class;
use super::{ChatEvent, ChatStream, ProviderError};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

/// One wire format's reading of server-sent events.
pub(crate) trait Decoder: Send + 'static {
    /// One event (`name` is "message" unless the server named it).
    fn event(
        &mut self,
        name: &str,
        data: &str,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), ProviderError>;
    /// The body ended without the format's final event.
    fn end(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), ProviderError>;
    /// The format's final event was seen: stop reading.
    fn done(&self) -> bool;
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// An answer being read: its body, the events parsed from it and not yet decoded.
struct Reading {
    body: Body,
    parser: Parser,
    events: VecDeque<super::eventstream::Event>,
}

enum State {
    Send { attempt: u32 },
    Wait { attempt: u32, wait: Duration },
    Read(Box<Reading>),
    Finished,
}

struct Driver<D> {
    target: Target,
    body: Bytes,
    decoder: D,
    pending: VecDeque<ChatEvent>,
    state: State,
}

/// The answer to `body` sent to `target`, decoded by `decoder`. Nothing is sent until the
/// stream is polled; dropping it closes the connection.
pub(crate) fn drive<D: Decoder>(target: Target, body: Bytes, decoder: D) -> ChatStream {
    let driver = Driver {
        target,
        body,
        decoder,
        pending: VecDeque::new(),
        state: State::Send { attempt: 1 },
    };
    Box::pin(futures::stream::unfold(driver, |mut d| async move {
        let item = d.next().await?;
        Some((item, d))
    }))
}

impl<D: Decoder> Driver<D> {
    async fn next(&mut self) -> Option<Result<ChatEvent, ProviderError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            match std::mem::replace(&mut self.state, State::Finished) {
                State::Finished => return None,
                State::Wait { attempt, wait } => {
                    tokio::time::sleep(wait).await;
                    self.state = State::Send { attempt };
                }
                State::Send { attempt } => match self.target.send(self.body.clone()).await {
                    Ok(response) => {
                        self.state = State::Read(Box::new(Reading {
                            body: Box::pin(response.bytes_stream()),
                            parser: Parser::new(MAX_EVENT_BYTES),
                            events: VecDeque::new(),
                        }));
                    }
                    Err(SendError::Status(failure)) => {
                        let wait = failure
                            .class
                            .retryable()
                            .then(|| self.target.retry.wait(attempt, failure.retry_after))
                            .flatten();
                        let Some(wait) = wait else {
                            return Some(Err(failure.into_error(&self.target, attempt)));
                        };
                        self.state = State::Wait {
                            attempt: attempt + 1,
                            wait,
                        };
                        let what = match failure.class {
                            Class::RateLimit => "rate limited",
                            Class::Overloaded => "overloaded",
                            _ => "server error",
                        };
                        return Some(Ok(ChatEvent::Retrying {
                            attempt,
                            wait,
                            reason: format!(
                                "{} {what} (HTTP {})",
                                self.target.kind, failure.status
                            ),
                        }));
                    }
                    Err(SendError::Other(e)) => return Some(Err(e)),
                },
                State::Read(mut reading) => {
                    let mut out = Vec::new();
                    let result = if let Some(event) = reading.events.pop_front() {
                        let r = self.decoder.event(&event.name, &event.data, &mut out);
                        if r.is_ok() && !self.decoder.done() {
                            self.state = State::Read(reading);
                        }
                        r
                    } else {
                        match reading.body.next().await {
                            Some(Ok(chunk)) => {
                                let mut parsed = Vec::new();
                                let r = reading
                                    .parser
                                    .push(&chunk, &mut parsed)
                                    .map_err(|e| self.parse_error(e));
                                reading.events.extend(parsed);
                                if r.is_ok() {
                                    self.state = State::Read(reading);
                                }
                                r
                            }
                            Some(Err(e)) => Err(self.target.transport_error(&e)),
                            None => self.decoder.end(&mut out),
                        }
                    };
                    if let Err(e) = result {
                        self.state = State::Finished;
                        return Some(Err(e));
                    }
                    self.pending.extend(out);
                }
            }
        }
    }

    fn parse_error(&self, e: ParseError) -> ProviderError {
        let provider = self.target.kind;
        match e {
            ParseError::LineTooLong { limit } => ProviderError::TooLong {
                provider,
                what: "a line",
                limit,
            },
            ParseError::EventTooLong { limit } => ProviderError::TooLong {
                provider,
                what: "an event",
                limit,
            },
            ParseError::NotUtf8 => ProviderError::Garbage {
                provider,
                detail: "the event stream is not UTF-8".into(),
            },
        }
    }
}

/// Parse one event's JSON, or say plainly that it is not JSON.
pub(crate) fn json(
    provider: super::ProviderKind,
    data: &str,
) -> Result<serde_json::Value, ProviderError> {
    serde_json::from_str(data).map_err(|e| ProviderError::Garbage {
        provider,
        detail: format!(
            "an event is not JSON ({e}): {}",
            super::error::quote(data, None)
        ),
    })
}
