//! Decodes a `security.capability` extended attribute (the kernel's
//! `vfs_cap_data`, revisions 1 to 3) into capability names.

/// Capability numbers 0–40 as `capability.h` names them.
const NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

const REVISION_MASK: u32 = 0xff00_0000;
const EFFECTIVE: u32 = 0x1;

/// `cap_net_bind_service,cap_net_raw+ep`-style text (as `getcap` prints),
/// or a note that the value could not be read.
pub fn describe(value: &[u8]) -> String {
    let word = |i: usize| {
        value
            .get(4 * i..4 * i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(magic) = word(0) else {
        return "unreadable security.capability value".into();
    };
    let words = match magic & REVISION_MASK {
        0x0100_0000 => 1,
        0x0200_0000 | 0x0300_0000 => 2,
        other => return format!("security.capability revision {:#x}", other >> 24),
    };
    let mut permitted = 0u64;
    let mut inheritable = 0u64;
    for i in 0..words {
        let (Some(p), Some(inh)) = (word(1 + 2 * i), word(2 + 2 * i)) else {
            return "truncated security.capability value".into();
        };
        permitted |= u64::from(p) << (32 * i);
        inheritable |= u64::from(inh) << (32 * i);
    }
    let names = |bits: u64| -> Vec<String> {
        (0..64)
            .filter(|bit| bits & (1 << bit) != 0)
            .map(|bit| {
                NAMES
                    .get(bit)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| format!("cap_{bit}"))
            })
            .collect()
    };
    let mut flags = String::from(if magic & EFFECTIVE != 0 { "e" } else { "" });
    if inheritable != 0 {
        flags.insert(0, 'i');
    }
    let mut all = names(permitted | inheritable);
    all.dedup();
    let joined = if all.is_empty() {
        "none".to_string()
    } else {
        all.join(",")
    };
    format!("{joined}+{flags}p")
}

#[cfg(test)]
mod tests {
    use super::describe;

    fn value(magic: u32, words: &[u32]) -> Vec<u8> {
        let mut out = magic.to_le_bytes().to_vec();
        for w in words {
            out.extend(w.to_le_bytes());
        }
        out
    }

    #[test]
    fn decodes_the_revisions_the_kernel_writes() {
        // What `setcap cap_net_raw+ep` writes (revision 2).
        let ping = value(0x0200_0001, &[1 << 13, 0, 0, 0]);
        assert_eq!(describe(&ping), "cap_net_raw+ep");
        let two = value(0x0200_0000, &[(1 << 10) | (1 << 12), 0, 0, 0]);
        assert_eq!(describe(&two), "cap_net_bind_service,cap_net_admin+p");
        // Revision 3 adds a root uid after the words.
        let v3 = value(0x0300_0001, &[0, 0, 1 << 7, 0, 1000]);
        assert_eq!(describe(&v3), "cap_bpf+ep");
        assert_eq!(describe(&[1, 2]), "unreadable security.capability value");
        assert!(describe(&value(0x0200_0001, &[1])).starts_with("truncated"));
        assert!(describe(&value(0x0900_0000, &[])).contains("revision"));
    }
}
