//! The HTTP edge shared by the REST API and the dashboard: errors mapped to
//! the API's JSON body, the same-origin rule for browser requests, and the
//! security headers every response carries, and how connections are
//! accepted (a cap and read timeouts).

pub mod connections;
pub mod error;
pub mod request_context;
pub mod same_origin;
pub mod security_headers;
