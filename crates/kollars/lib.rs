//! kollars
