#![no_main]
//! `etc/ld.so.cache`: any bytes parse or fail, never panic.

use libfuzzer_sys::fuzz_target;
use pare_elf::LdCache;
use pare_elf::ldcache::flags_for;

fuzz_target!(|data: &[u8]| {
    if let Ok(cache) = LdCache::parse(data)
        && let Some(first) = cache.entries.first()
    {
        let _ = cache.lookup(&first.name, flags_for(62, true));
        let _ = cache.lookup(&first.name, None);
    }
});
