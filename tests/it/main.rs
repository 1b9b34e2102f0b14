//! Herald's integration tests: one binary, real databases, real HTTP.
//!
//! Every test marked with `both_backends!` runs once on a fresh SQLite file
//! and once in a fresh PostgreSQL schema (`HERALD_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

mod helpers;
mod receiver;
mod smtp;

mod access;
mod accounts;
mod admin;
mod admin_catalog;
mod api_keys;
mod audit_log;
mod browser_safety;
mod callbacks;
mod cli;
mod dashboard_isolation;
mod database_faults;
mod delivery;
mod delivery_profiles;
mod edge_limits;
mod egress;
mod endpoint_mode;
mod endpoint_options;
mod history;
mod http_basics;
mod ingest;
mod isolation;
mod log_hygiene;
mod merchant_api;
mod openapi;
mod operational_events;
mod operator_console;
mod passwords;
mod processes;
mod query_plans;
mod reconciliation;
mod recovery;
mod sandbox;
mod secrets_at_rest;
mod seed_verification;
mod sessions;
mod signature_schemes;
mod soak;
mod ssrf;
mod stats;
mod stats_fold;
mod store_suite;
mod teams;
