//! Fault injection for the recording proxy: a share of requests answered
//! with a server error (500), throttling (429, with the error code each AWS
//! protocol uses), a dropped connection, or a lost response (forwarded, and
//! the connection dropped instead of answering: AWS acted, the client cannot
//! know), decided by a seeded sequence so a
//! run can be repeated; and a cut that stops forwarding after the N-th write,
//! the way a killed deploy stops.

use std::io::Write;
use std::net::TcpStream;

/// What the proxy does with the requests it is given.
#[derive(Debug, Default, Clone)]
pub struct FaultPlan {
    /// Percent of requests to fault (0 to 100).
    pub percent: u32,
    pub seed: u64,
    /// After this many writes have been forwarded, drop every request.
    pub cut_after_writes: Option<usize>,
    /// Calls whose first occurrence is forwarded and its response lost:
    /// (name prefix, name suffix) as the proxy names calls, e.g.
    /// `("apigateway:POST /restapis/", "/deployments")`.
    pub lose_first: Vec<(String, String)>,
    /// Requests seen, the next fault decision's index.
    seen: u64,
    pub writes_forwarded: usize,
    pub counts: FaultCounts,
}

/// Faults injected so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FaultCounts {
    pub server_errors: usize,
    pub throttles: usize,
    pub dropped: usize,
    /// Requests forwarded whose response was dropped.
    pub lost: usize,
    /// Requests dropped because the cut was reached.
    pub after_cut: usize,
}

impl FaultCounts {
    pub fn injected(&self) -> usize {
        self.server_errors + self.throttles + self.dropped + self.lost
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    ServerError,
    Throttle,
    Drop,
    /// Forward the request, then drop the connection instead of answering.
    LoseResponse,
}

impl FaultPlan {
    pub fn new(percent: u32, seed: u64) -> Self {
        FaultPlan {
            percent: percent.min(100),
            seed,
            ..FaultPlan::default()
        }
    }

    /// The fault for the next request named `name`: a response to lose when
    /// `lose_first` names it, else as [`FaultPlan::next`] decides.
    pub fn next_for(&mut self, name: &str, write: bool) -> Option<Fault> {
        let listed = self
            .lose_first
            .iter()
            .position(|(p, s)| name.starts_with(p.as_str()) && name.ends_with(s.as_str()));
        let Some(i) = listed else {
            return self.next(write);
        };
        self.lose_first.remove(i);
        self.counts.lost += 1;
        if write {
            self.writes_forwarded += 1;
        }
        Some(Fault::LoseResponse)
    }

    /// The fault for the next request, if any, counted; a write that passes
    /// counts towards the cut.
    pub fn next(&mut self, write: bool) -> Option<Fault> {
        if let Some(n) = self.cut_after_writes {
            if self.writes_forwarded >= n {
                self.counts.after_cut += 1;
                return Some(Fault::Drop);
            }
        }
        let r = splitmix64(self.seed ^ self.seen.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        self.seen += 1;
        if r % 100 >= u64::from(self.percent) {
            if write {
                self.writes_forwarded += 1;
            }
            return None;
        }
        let fault = match (r >> 32) % 4 {
            0 => Fault::ServerError,
            1 => Fault::Throttle,
            2 => Fault::Drop,
            _ => Fault::LoseResponse,
        };
        match fault {
            Fault::ServerError => self.counts.server_errors += 1,
            Fault::Throttle => self.counts.throttles += 1,
            Fault::Drop => self.counts.dropped += 1,
            Fault::LoseResponse => {
                self.counts.lost += 1;
                if write {
                    self.writes_forwarded += 1;
                }
            }
        }
        Some(fault)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Answers `fault` on `client`; `false` means the connection is closed.
/// `json` says whether the request used a JSON protocol (the error body
/// must be one the SDK parses to classify the error as retryable).
pub fn answer(client: &mut TcpStream, fault: Fault, json: bool, rest_json: bool) -> bool {
    let (status, code) = match fault {
        Fault::Drop | Fault::LoseResponse => return false,
        Fault::ServerError => ("500 Internal Server Error", "InternalFailure"),
        Fault::Throttle => ("429 Too Many Requests", "ThrottlingException"),
    };
    let (content_type, body) = if json {
        (
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"injected by ferry's test proxy"}}"#),
        )
    } else if rest_json {
        (
            "application/json",
            r#"{"message":"injected by ferry's test proxy"}"#.to_owned(),
        )
    } else {
        let code = if code == "ThrottlingException" {
            "Throttling"
        } else {
            code
        };
        (
            "text/xml",
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected by ferry's test proxy</Message></Error><RequestId>ferry-fault</RequestId></ErrorResponse>"),
        )
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\nx-amzn-errortype: {code}\r\nx-amzn-requestid: ferry-fault\r\ncontent-length: {}\r\nconnection: keep-alive\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).is_ok() && client.write_all(body.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_plan_faults_about_its_share_and_repeats() {
        let mut a = FaultPlan::new(20, 7);
        let mut b = FaultPlan::new(20, 7);
        let faults: Vec<Option<Fault>> = (0..1000).map(|_| a.next(false)).collect();
        let again: Vec<Option<Fault>> = (0..1000).map(|_| b.next(false)).collect();
        assert_eq!(faults, again);
        let n = a.counts.injected();
        assert!((150..250).contains(&n), "{n} of 1000");
        assert!(a.counts.server_errors > 0 && a.counts.throttles > 0 && a.counts.dropped > 0);
    }

    #[test]
    fn the_cut_drops_everything_after_the_nth_write() {
        let mut plan = FaultPlan {
            cut_after_writes: Some(2),
            ..FaultPlan::default()
        };
        assert_eq!(plan.next(false), None);
        assert_eq!(plan.next(true), None);
        assert_eq!(plan.next(true), None);
        assert_eq!(plan.next(false), Some(Fault::Drop));
        assert_eq!((plan.writes_forwarded, plan.counts.after_cut), (2, 1));
    }
}
