//! TEMPORARY scaffold until the real module lands.
