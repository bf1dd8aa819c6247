//! Fencepost's order middleware on AWS Lambda (issue 5): one `bootstrap` binary, two functions of
//! deploy/template.yaml chosen by `FENCEPOST_MODE`:
//! - `api`: the same axum router as `fencepost serve --engine stepfunctions`, behind `lambda_http`
//!   (API Gateway HTTP API, payload v2);
//! - `worker`: the Step Functions task queue's consumer, invoked by the SQS event source with batches.
//!
//! Both open the same SQLite file (EFS on AWS). See docs/deploy-aws.md.

pub mod admin_token;
pub mod api;
pub mod config;
pub mod init_error;
pub mod sse;
pub mod worker;
