//! `GET /_matrix/client/versions`
//! (<https://spec.matrix.org/v1.16/client-server-api/#get_matrixclientversions>):
//! the first request every client makes.

use axum::Json;
use serde_json::{Value, json};

/// The spec versions whose client-server API this server speaks (the
/// subset it implements behaves as these versions say).
pub async fn get_versions() -> Json<Value> {
    Json(json!({
        "versions": ["v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11"],
        "unstable_features": {}
    }))
}
