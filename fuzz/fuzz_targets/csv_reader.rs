//! Any bytes as an uploaded CSV: the reader never panics, and what it accepts keeps
//! the limits it promises (columns, cell size, ascending line numbers).
#![no_main]

use app::backend::transfer::read::{read, MAX_CELL_BYTES, MAX_COLUMNS};
use app::domain::transfer::FileFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = read(data, FileFormat::Csv) {
        assert!(table.headers.len() <= MAX_COLUMNS);
        let mut last = 0;
        for (line, cells) in &table.rows {
            assert!(*line > last, "line numbers ascend: {line} after {last}");
            last = *line;
            assert!(cells.len() <= MAX_COLUMNS);
            assert!(cells.iter().all(|c| c.len() <= MAX_CELL_BYTES));
        }
    }
});
