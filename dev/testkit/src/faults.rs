//! Fault injection for the recording proxy: a share of requests answered
//! with a server error (500), throttling (429, with the error code each AWS
//! protocol uses), a dropped connection, or a lost response (forwarded, and
//! the connection dropped instead of answering: AWS acted, the client cannot
//! know); and the odd answers of real networks: a 429 whose body no AWS
//! parser reads (empty, HTML, another protocol's format), a gateway's 502 or
//! 503 in HTML, a signature refused for clock skew (with the server's `Date`
//! ten minutes ahead), a response that stalls halfway through its body, and
//! an upload that the proxy stops reading halfway.
//! Decided by a seeded sequence so a run can be repeated; and a cut that
//! stops forwarding after the N-th write, the way a killed deploy stops.

mod answer;

pub use answer::answer;

/// What the proxy does with the requests it is given.
#[derive(Debug, Default, Clone)]
pub struct FaultPlan {
    /// Percent of requests to fault (0 to 100).
    pub percent: u32,
    pub seed: u64,
    /// After this many writes have been forwarded, drop every request.
    pub cut_after_writes: Option<usize>,
    /// Calls whose first occurrence meets a given fault: (name prefix, name
    /// suffix) as the proxy names calls, e.g.
    /// `("apigateway:POST /restapis/", "/deployments")`, and the fault.
    pub first: Vec<(String, String, Fault)>,
    /// A fault for the first answer of every kind of write (see [`kind`]);
    /// with [`Fault::StallUpload`], of every kind of large upload.
    pub each_first: Option<Fault>,
    /// The kinds of write `each_first` met so far.
    pub faulted_kinds: std::collections::BTreeSet<String>,
    /// Requests seen, the next fault decision's index.
    seen: u64,
    /// Large uploads seen, the next upload-stall decision's index.
    uploads: u64,
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
    /// 429s with a body the SDK cannot parse.
    pub odd_throttles: usize,
    /// 502/503 answered by a "gateway" in HTML.
    pub gateway_errors: usize,
    /// Signatures refused for clock skew.
    pub skews: usize,
    /// Requests forwarded whose response stalled halfway.
    pub stalls: usize,
    /// Uploads the proxy stopped reading halfway (never forwarded).
    pub upload_stalls: usize,
    /// Requests refused for expired credentials.
    pub expired: usize,
    /// Requests dropped because the cut was reached.
    pub after_cut: usize,
}

impl FaultCounts {
    pub fn injected(&self) -> usize {
        self.server_errors
            + self.throttles
            + self.dropped
            + self.lost
            + self.odd_throttles
            + self.gateway_errors
            + self.skews
            + self.stalls
            + self.upload_stalls
            + self.expired
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
    /// 429 with a body that is not the service's error format; the number
    /// picks which (empty, HTML, JSON or XML of the other kind), and whether
    /// a `Retry-After` comes with it.
    OddThrottle(u8),
    /// 502 or 503 (by the number) with an HTML body, as a gateway sends.
    GatewayError(u8),
    /// 403 "Signature expired", the server's clock ten minutes ahead.
    Skew,
    /// Forward the request, then send half the response and stall.
    StallBody,
    /// Stop reading a large request body halfway, never forwarding it, and
    /// hold the connection (decided by [`FaultPlan::upload_stall`]).
    StallUpload,
    /// "The security token included in the request is expired", as a CI
    /// job's session ends (only when a test names it in `first`).
    ExpiredToken,
}

impl Fault {
    /// Whether the proxy forwards the request (AWS acts) before the fault.
    pub fn forwards(self) -> bool {
        matches!(self, Fault::LoseResponse | Fault::StallBody)
    }
}

impl FaultPlan {
    pub fn new(percent: u32, seed: u64) -> Self {
        FaultPlan {
            percent: percent.min(100),
            seed,
            ..FaultPlan::default()
        }
    }

    /// The fault for the next request named `name`: the one `first` names
    /// for it, else as [`FaultPlan::next`] decides.
    pub fn next_for(&mut self, name: &str, write: bool) -> Option<Fault> {
        let listed = self.first.iter().position(|(p, s, f)| {
            *f != Fault::StallUpload && name.starts_with(p.as_str()) && name.ends_with(s.as_str())
        });
        let Some(i) = listed else {
            if let Some(fault) = self.each_first.filter(|f| *f != Fault::StallUpload) {
                if write && self.faulted_kinds.insert(kind(name)) {
                    self.count(fault, write);
                    return Some(fault);
                }
            }
            return self.next(write);
        };
        let (_, _, fault) = self.first.remove(i);
        self.count(fault, write);
        Some(fault)
    }

    /// Whether the proxy stops reading the large body of the request named
    /// `name` halfway: `first` names it with [`Fault::StallUpload`], or, in a
    /// mixed run, a third of the faulted share of large uploads.
    pub fn upload_stall(&mut self, name: &str) -> bool {
        let listed = self.first.iter().position(|(p, s, f)| {
            *f == Fault::StallUpload && name.starts_with(p.as_str()) && name.ends_with(s.as_str())
        });
        let stall = match listed {
            Some(i) => {
                self.first.remove(i);
                true
            }
            None if self.each_first == Some(Fault::StallUpload) => {
                self.faulted_kinds.insert(kind(name))
            }
            None => {
                let r = splitmix64(!self.seed ^ self.uploads.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                self.uploads += 1;
                r % 300 < u64::from(self.percent)
            }
        };
        if stall {
            self.counts.upload_stalls += 1;
        }
        stall
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
        let variant = ((r >> 40) % 4) as u8;
        let fault = match (r >> 32) % 8 {
            0 => Fault::ServerError,
            1 => Fault::Throttle,
            2 => Fault::Drop,
            3 => Fault::LoseResponse,
            4 => Fault::OddThrottle(variant),
            5 => Fault::GatewayError(variant),
            6 => Fault::Skew,
            _ => Fault::StallBody,
        };
        self.count(fault, write);
        Some(fault)
    }
}

impl FaultPlan {
    fn count(&mut self, fault: Fault, write: bool) {
        let c = &mut self.counts;
        match fault {
            Fault::ServerError => c.server_errors += 1,
            Fault::Throttle => c.throttles += 1,
            Fault::Drop => c.dropped += 1,
            Fault::LoseResponse => c.lost += 1,
            Fault::OddThrottle(_) => c.odd_throttles += 1,
            Fault::GatewayError(_) => c.gateway_errors += 1,
            Fault::Skew => c.skews += 1,
            Fault::StallBody => c.stalls += 1,
            Fault::StallUpload => c.upload_stalls += 1,
            Fault::ExpiredToken => c.expired += 1,
        }
        if write && fault.forwards() {
            self.writes_forwarded += 1;
        }
    }
}

/// The kind of a call as the proxy names it: in a REST path, after the API
/// version date, collections and the names in them alternate
/// (`/functions/{name}/policy`, `/restapis/{id}/deployments`), and each name
/// becomes `*`, so `lambda:POST /2015-03-31/functions/items-test-get-item/policy`
/// is `lambda:POST /2015-03-31/functions/*/policy`.
pub fn kind(name: &str) -> String {
    let Some((head, path)) = name.split_once(' ') else {
        return name.to_owned();
    };
    let date = |seg: &str| seg.len() == 10 && seg.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    let mut out = Vec::new();
    let mut position = 0;
    for (i, seg) in path.split('/').enumerate() {
        if seg.is_empty() || (i == 1 && date(seg)) {
            out.push(seg);
            continue;
        }
        out.push(if position % 2 == 1 { "*" } else { seg });
        position += 1;
    }
    format!("{head} {}", out.join("/"))
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
        let c = a.counts;
        assert!(c.server_errors > 0 && c.throttles > 0 && c.dropped > 0 && c.lost > 0);
        assert!(c.odd_throttles > 0 && c.gateway_errors > 0 && c.skews > 0 && c.stalls > 0);
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

    #[test]
    fn kinds_of_call_leave_out_resource_names() {
        assert_eq!(
            kind("lambda:POST /2015-03-31/functions/items-test-get-item/policy"),
            "lambda:POST /2015-03-31/functions/*/policy"
        );
        assert_eq!(
            kind("apigateway:POST /restapis/x7ab1q2z3c/deployments"),
            "apigateway:POST /restapis/*/deployments"
        );
        assert_eq!(
            kind("cloudfront:PUT /2020-05-31/distribution/E2QWRUHAPOMQZL/config"),
            "cloudfront:PUT /2020-05-31/distribution/*/config"
        );
        assert_eq!(kind("iam:CreateRole"), "iam:CreateRole");
        // An id of letters only is still an id.
        assert_eq!(
            kind("apigateway:PUT /restapis/qwvsebgpgx"),
            "apigateway:PUT /restapis/*"
        );
        assert_eq!(
            kind("route53:POST /2013-04-01/hostedzone/H3ZTU36OX7JGHOFMQHVDQ2/rrset/"),
            "route53:POST /2013-04-01/hostedzone/*/rrset/"
        );
    }

    #[test]
    fn each_kind_of_write_meets_its_fault_once() {
        let mut plan = FaultPlan {
            each_first: Some(Fault::ServerError),
            ..FaultPlan::default()
        };
        let a = "lambda:PUT /2015-03-31/functions/a/code";
        let b = "lambda:PUT /2015-03-31/functions/b/code";
        assert_eq!(plan.next_for(a, true), Some(Fault::ServerError));
        assert_eq!(plan.next_for(b, true), None, "same kind");
        assert_eq!(plan.next_for("lambda:GET /x", false), None, "a read");
        assert_eq!(
            plan.next_for("iam:CreateRole", true),
            Some(Fault::ServerError)
        );
        assert_eq!(plan.faulted_kinds.len(), 2);
    }

    #[test]
    fn upload_stalls_are_named_or_a_third_of_the_share() {
        let mut plan = FaultPlan::new(30, 3);
        plan.first = vec![("lambda:POST /x".into(), "".into(), Fault::StallUpload)];
        // A listed upload stall is not taken by an ordinary decision.
        plan.percent = 0;
        assert_eq!(plan.next_for("lambda:POST /x", true), None);
        assert!(plan.upload_stall("lambda:POST /x"));
        assert!(plan.first.is_empty());
        plan.percent = 30;
        let n = (0..3000)
            .filter(|_| plan.upload_stall("lambda:POST /y"))
            .count();
        assert!((200..400).contains(&n), "{n} of 3000 at 30%/3");
        assert_eq!(plan.counts.upload_stalls, n + 1);
    }
}
