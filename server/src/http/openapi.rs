//! `/openapi.json`, generated from the handlers' annotations and the model's `ToSchema` derives.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::model::*;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Fencepost order middleware", description = "See docs/http-api.md."),
    modifiers(&BearerAuth),
    paths(
        crate::http::healthz,
        crate::http::orders::place_order,
        crate::http::orders::get_order,
        crate::http::orders::decision,
        crate::http::orders::pickup_code,
        crate::http::driver::offers,
        crate::http::driver::accept_offer,
        crate::http::driver::decline_offer,
        crate::http::driver::assignments,
        crate::http::driver::locations,
        crate::http::driver::arrival,
        crate::http::driver::pickup,
        crate::http::driver::delivered,
        crate::http::feeds::store_events,
        crate::http::feeds::driver_events,
        crate::http::admin::create_store,
        crate::http::admin::store_token,
        crate::http::admin::create_driver,
        crate::http::admin::create_customer,
    ),
    components(schemas(ErrorBody, OrderView, CustomerView, StoreView, DriverView, Offer, StoreFence, OpeningHours))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
