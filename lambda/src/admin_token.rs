//! The admin party's bearer token: `FENCEPOST_ADMIN_TOKEN`, or read once at init from Secrets Manager
//! when `FENCEPOST_ADMIN_TOKEN_SECRET_ARN` is set (the deploy template's way: no secret in the function's
//! environment). Neither the token nor the secret's content ever appears in a log or error.

use crate::config::{Config, Error};

pub async fn load(config: &Config) -> Result<String, Error> {
    if let Ok(token) = std::env::var("FENCEPOST_ADMIN_TOKEN") {
        if !token.is_empty() {
            return Ok(token);
        }
    }
    let arn = std::env::var("FENCEPOST_ADMIN_TOKEN_SECRET_ARN")
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(Error::Missing(
            "FENCEPOST_ADMIN_TOKEN (or FENCEPOST_ADMIN_TOKEN_SECRET_ARN)",
        ))?;
    let sdk = fencepost_server::workflow::stepfunctions::aws::sdk_config(
        config.aws_endpoint.as_deref(),
        &fencepost_server::workflow::stepfunctions::region_from_env(),
    )
    .await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            Error::Secret(
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("no detail")
                    .to_string(),
            )
        })?;
    out.secret_string()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Secret("the secret has no string value".into()))
}
