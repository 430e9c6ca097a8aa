//! Any bytes as an uploaded XLSX (the seeds are real workbooks, so mutations reach the
//! zip entries and the sheet XML): the reader never panics, and what it accepts keeps
//! its limits.
#![no_main]

use app::backend::transfer::read::{read, MAX_CELL_BYTES, MAX_COLUMNS};
use app::domain::transfer::FileFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = read(data, FileFormat::Xlsx) {
        assert!(table.headers.len() <= MAX_COLUMNS);
        for (_, cells) in &table.rows {
            assert!(cells.len() <= MAX_COLUMNS);
            assert!(cells.iter().all(|c| c.len() <= MAX_CELL_BYTES));
        }
    }
});
