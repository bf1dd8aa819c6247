//! A JSON body extractor whose rejections are `ApiError`s: 415 without a JSON content type, 413 over the
//! body limit, 400 naming the field at fault (and never echoing the rejected value back).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Request body must be JSON (Content-Type: application/json).",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse(&bytes).map(JsonBody)
    }
}

/// Like `JsonBody`, but an empty body means `T::default()` (for calls whose body is optional).
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse(&bytes).map(OptionalJsonBody)
    }
}

pub fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Request body is larger than 256 KiB.",
    )
}

fn body_rejection(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        payload_too_large()
    } else {
        ApiError::invalid_body("the body could not be read")
    }
}

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_body(describe(&e)))
}

/// serde_json's message without the offending value (it may be a coordinate or a token).
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let (head, position) = match text.rfind(" at line ") {
        Some(i) => (&text[..i], &text[i..]),
        None => (text.as_str(), ""),
    };
    let head = if head.starts_with("invalid type") || head.starts_with("invalid value") {
        match head.split_once(", expected ") {
            Some((kind, expected)) => {
                let kind = kind.split(':').next().unwrap_or("invalid value");
                format!("{kind}, expected {expected}")
            }
            None => "invalid value".to_string(),
        }
    } else {
        head.to_string()
    };
    format!("{head}{position}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        latitude: f64,
    }

    #[test]
    fn messages_name_the_problem_but_not_the_value() {
        let err = parse::<Probe>(br#"{"latitude": "60.1699"}"#)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(
            err.contains("invalid type") && !err.contains("60.1699"),
            "{err}"
        );
        let err = parse::<Probe>(b"{}")
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("missing field `latitude`"), "{err}");
    }
}
