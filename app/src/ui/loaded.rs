//! The one way a page shows data it waits for: a `Transition` (the old view
//! stays while a refetch runs), an `ErrorBoundary`, and one alert for a
//! failure, chosen by the error's code.

use crate::model::error::{AppError, ErrorCode};
use leptos::prelude::*;
use leptos_router::components::A;
use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;

/// Shows `children(data)` once `data()` resolves, or the uniform alert if it
/// failed. `data` is usually `move || resource`, `move || both(a, b)`, or
/// an `async` block over resources that combines them with `?`.
#[component]
pub fn Loaded<Data, Fut, T, V>(
    data: Data,
    children: impl Fn(T) -> V + Send + Sync + 'static,
    /// Shown while nothing has loaded yet; nothing when absent.
    #[prop(optional)]
    loading: Option<&'static str>,
) -> impl IntoView
where
    Data: Fn() -> Fut + Send + Sync + 'static,
    Fut: IntoFuture<Output = Result<T, AppError>>,
    Fut::IntoFuture: Send + 'static,
    T: 'static,
    V: IntoView + 'static,
{
    let children = Arc::new(children);
    view! {
        <Transition fallback=move || loading.map(|text| view! { <p class="muted">{text}</p> })>
            <ErrorBoundary fallback=|errors| view! { <Failure errors/> }>
                {move || {
                    let (data, children) = (data().into_future(), Arc::clone(&children));
                    Suspend::new(async move {
                        data.await.map(|loaded| children(loaded).into_any()).map_err(Thrown)
                    })
                }}
            </ErrorBoundary>
        </Transition>
    }
}

/// Both resources' data, for a view that needs the two. Both are awaited
/// before either error is returned, so the view waits for, and follows, both.
pub async fn both<A, B>(
    a: Resource<Result<A, AppError>>,
    b: Resource<Result<B, AppError>>,
) -> Result<(A, B), AppError>
where
    A: Clone + Send + Sync + 'static,
    B: Clone + Send + Sync + 'static,
{
    let (a, b) = (a.await, b.await);
    Ok((a?, b?))
}

/// An `AppError` on its way to the boundary, written out whole as JSON.
///
/// While hydrating, the browser knows an error that the server caught only by
/// its `Display` text; carrying the code in that text lets server and browser
/// draw the same alert (a different one would break hydration).
#[derive(Debug)]
struct Thrown(AppError);

impl fmt::Display for Thrown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(&self.0).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

impl std::error::Error for Thrown {}

/// Reads an error caught by the boundary back into an `AppError`: its JSON
/// when it came from `Loaded`, else its text as an internal error.
fn caught(error: &leptos::error::Error) -> AppError {
    let text = error.to_string();
    serde_json::from_str(&text).unwrap_or_else(|_| AppError::new(ErrorCode::Internal, text))
}

/// The boundary's fallback. One `Loaded` awaits one thing, so there is one
/// error to show (while hydrating it may be there twice, as sent and as
/// rethrown; both read back the same).
#[component]
fn Failure(errors: ArcRwSignal<Errors>) -> impl IntoView {
    move || {
        errors
            .with(|errors| errors.iter().next().map(|(_, error)| caught(error)))
            .map(|error| view! { <ErrorAlert error/> })
    }
}

/// How every page shows a failure: operators' pages refused to a merchant,
/// something that does not exist (or is someone else's), or an alert with
/// the message.
#[component]
fn ErrorAlert(error: AppError) -> impl IntoView {
    match error.code {
        ErrorCode::Forbidden => view! {
            <div class="empty" data-testid="refused">
                <h2>"Not allowed"</h2>
                <p class="muted">"This page is for Herald's operators."</p>
                <A href="/">"Back to your dashboard"</A>
            </div>
        }
        .into_any(),
        ErrorCode::NotFound => view! {
            <div class="empty" data-testid="not-found">
                <h2>"Not found"</h2>
                <p class="muted">{error.message}</p>
                <A href="/">"Back to your dashboard"</A>
            </div>
        }
        .into_any(),
        _ => view! { <div class="alert error" role="alert">{error.message}</div> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_survives_the_trip_through_its_text() {
        let sent = AppError::not_found("delivery");
        let thrown = leptos::error::Error::from(Thrown(sent.clone()));
        assert_eq!(caught(&thrown), sent);
    }

    #[test]
    fn any_other_error_shows_its_text() {
        let other = leptos::error::Error::from(std::io::Error::other("disk on fire"));
        let shown = caught(&other);
        assert_eq!(shown.code, "internal");
        assert_eq!(shown.message, "disk on fire");
    }
}
