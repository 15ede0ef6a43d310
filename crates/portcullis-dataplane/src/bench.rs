//! A facade for the criterion micro-benchmarks in `benches/`: thin wrappers over the
//! crate-private pieces of the request path, so the benchmarks time the very code a
//! request runs. No logic lives here; nothing outside `benches/` should use it.
#![doc(hidden)]

use http::{HeaderValue, Response};
use portcullis_config::{Balance, Route};

use crate::balance::{Balancer, Candidate, SelectKey};
use crate::response::{generated_response, preferred_format, Generated, ProxyIdentity};
use crate::routing::{normalize_host, RouteTable};
use crate::{Cause, ResponseBody};

/// A balancing algorithm built over fixed backends, as a cluster builds it.
#[derive(Debug)]
pub struct Selection {
    balancer: Balancer,
    members: Vec<Member>,
}

#[derive(Debug)]
struct Member {
    weight: u32,
    in_flight: usize,
}

impl Candidate for Member {
    fn weight(&self) -> u32 {
        self.weight
    }
    fn in_flight(&self) -> usize {
        self.in_flight
    }
}

impl Selection {
    /// The `kind` algorithm over `backends` (address, weight); none has requests in flight.
    pub fn new(kind: Balance, backends: &[(&str, u32)]) -> Self {
        let members = backends
            .iter()
            .map(|&(_, weight)| Member {
                weight,
                in_flight: 0,
            })
            .collect();
        Self {
            balancer: Balancer::new(kind, backends),
            members,
        }
    }

    /// Sets the requests in flight `least_request` sees on backend `index`.
    pub fn set_in_flight(&mut self, index: usize, in_flight: usize) {
        if let Some(member) = self.members.get_mut(index) {
            member.in_flight = in_flight;
        }
    }

    /// One pick for a request whose `hash_on` value hashes to `hash`, among the
    /// backends `accept` takes.
    pub fn select(&self, hash: u64, accept: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
        self.balancer
            .select(&self.members, SelectKey { hash }, accept)
    }
}

/// The consistent-hash key function of `hash_on` values.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    crate::balance::hash_bytes(bytes)
}

/// One listener's route table, as a snapshot builds it.
#[derive(Debug)]
pub struct Routes(RouteTable);

impl Routes {
    /// Indexes `routes`; a route's cluster is its position in `clusters`.
    pub fn new(routes: &[Route], clusters: &[&str]) -> Self {
        Self(RouteTable::build(routes, |name| {
            clusters.iter().position(|c| *c == name)
        }))
    }

    /// The cluster index for a request's raw `Host` header and path, as the request
    /// path looks it up (host normalized first).
    pub fn lookup(&self, host: &str, path: &str) -> Option<usize> {
        self.0.lookup(&normalize_host(host), path)
    }
}

/// The generated response for `cause`, in the format `accept` asks for, as the
/// request path renders it (`proxy_status = "errors"`, no next hop).
pub fn render_generated(
    cause: Cause,
    accept: Option<&HeaderValue>,
    request_id: &HeaderValue,
    retry_after: Option<u64>,
    identity: &ProxyIdentity,
) -> Response<ResponseBody> {
    let g = Generated {
        cause,
        status: cause.status(),
        request_id,
        retry_after,
        next_hop: None,
        format: preferred_format(accept.map(HeaderValue::as_bytes)),
    };
    generated_response(&g, Some(identity))
}
