# recipes.sh - how each image of the regression suite is made (sourced by
# run.sh, which sets SRC and calls make_tree SRC first).  Every image starts as
# mkfs.fat with a fixed volume id and --invariant (no time or random
# value), filled by mtools from a tree with fixed times; a damaged one
# then gets bytes written at fixed offsets.  poke checks the bytes it
# replaces, so a layout that moved (another mkfs.fat) stops the suite
# instead of damaging some other place.  Offsets are worked out in
# README.md.

# The tree every image holds (made once by run.sh in $SRC):
#   /README.TXT               8 bytes, an 8.3 name only
#   /Long file name.txt       10 bytes, long name + alias LONGFI~1.TXT
#   /DIR/data.bin             8893 bytes (seq 1 2000): several clusters
#   /DIR/Sub dir/deep.txt     5 bytes
# Besides it, $1.stage/DIR holds data.bin only: mcopy -s copies a
# directory in the host's readdir order, so each directory goes in with
# one entry at a time (the order, and so every cluster, stays fixed).
make_tree() {
	mkdir -p "$1/DIR/Sub dir" "$1.stage/DIR"
	echo "read me" > "$1/README.TXT"
	echo "long name" > "$1/Long file name.txt"
	seq 1 2000 > "$1/DIR/data.bin"
	echo deep > "$1/DIR/Sub dir/deep.txt"
	cp "$1/DIR/data.bin" "$1.stage/DIR/"
	find "$1" "$1.stage" -exec touch -h -d '2024-01-02 03:04:05 UTC' {} +
}

# base IMAGE SIZE MKFS_ARGS...: a volume of SIZE bytes holding the tree
# (made once per run for the same arguments, then copied)
base() {
	local img=$1 size=$2
	shift 2
	local cached="$SRC.cache/$size${*// /_}.img"
	if [ -f "$cached" ]; then
		cp --sparse=always "$cached" "$img"
		return
	fi
	mkdir -p "$SRC.cache"
	base_make "$cached" "$size" "$@"
	cp --sparse=always "$cached" "$img"
}

base_make() {
	local img=$1 size=$2
	shift 2
	rm -f "$img"
	truncate -s "$size" "$img"
	mkfs.fat --invariant -i 1234ABCD -n FIXTURE "$@" "$img" > /dev/null
	# -m: the files' times, not now (-s: directories too)
	mcopy -m -i "$img" "$SRC/README.TXT" "$SRC/Long file name.txt" ::/
	mcopy -s -m -i "$img" "$SRC.stage/DIR" ::/
	mcopy -s -m -i "$img" "$SRC/DIR/Sub dir" ::/DIR/
}

# poke IMAGE OFFSET OLDHEX NEWHEX: replaces the bytes at OFFSET (decimal),
# which must be OLDHEX
poke() {
	local img=$1 off=$2 old=$3 new=$4 n
	n=$((${#old} / 2))
	local have
	have=$(od -An -tx1 -v -j "$off" -N "$n" "$img" | tr -d ' \n')
	if [ "$have" != "$old" ]; then
		echo "recipe: $img at $off holds $have, not $old" >&2
		return 1
	fi
	printf "$(echo "$new" | sed 's/../\\x&/g')" |
		dd of="$img" bs=1 seek="$off" conv=notrunc status=none
}

# ---- the images: one function each, img_NAME IMAGE ----

# Clean volumes of each type, made by mkfs.fat with its usual layouts.
img_fat12_floppy() { base "$1" 1474560 -F 12; }
img_fat16() { base "$1" 3145728 -F 16 -s 1; }
img_fat16_4k_sectors() { base "$1" 16777216 -F 16 -S 4096 -s 1; }
img_fat32() { base "$1" 34603008 -F 32 -s 1; }

# cut IMAGE SIZE: the image ends early (a copy that stopped)
cut_to() { truncate -s "$2" "$1"; }

# Damaged FAT16 volumes (img_fat16's layout: FAT 1 at byte 512, FAT 2 at
# 12800, root at 25088, cluster N at 41472 + (N - 2) * 512; DIR is
# cluster 4, data.bin clusters 5-22, "Sub dir" 23, deep.txt 24).

# The boot sector: no 55 AA signature and no jump: not a FAT volume.
img_boot_no_signature() { img_fat16 "$1"; poke "$1" 510 55aa 0000; poke "$1" 0 eb 00; }
# BPB_BytsPerSec 768: not a power of two.
img_boot_sector_size_768() { img_fat16 "$1"; poke "$1" 11 0002 0003; }
# BPB_SecPerClus 0.
img_boot_no_cluster_size() { img_fat16 "$1"; poke "$1" 13 01 00; }
# BPB_NumFATs 0.
img_boot_no_fats() { img_fat16 "$1"; poke "$1" 16 02 00; }
# The file ends at 1 MiB of the volume's 3.
img_truncated() { img_fat16 "$1"; cut_to "$1" 1048576; }
# Not cleanly unmounted: BS_Reserved1's dirty bit (byte 37) set.
img_dirty_bit() { img_fat16 "$1"; poke "$1" 37 00 01; }
# data.bin's chain loops: its last cluster (22, FAT entry at 556)
# points back at its first (5).
img_chain_loop() { img_fat16 "$1"; poke "$1" 556 ffff 0500; }
# data.bin's chain goes out of the volume: cluster 5's entry (522) says
# 0xF000, past the last cluster (6064).
img_chain_out_of_range() { img_fat16 "$1"; poke "$1" 522 0600 00f0; }
# data.bin's entry (42560) names cluster 1 as its first (DIR_FstClusLO
# at 42586), a reserved number.
img_entry_cluster_1() { img_fat16 "$1"; poke "$1" 42586 0500 0100; }
# data.bin's size (DIR_FileSize at 42588) is 74429, its chain holds 9216.
img_size_past_chain() { img_fat16 "$1"; poke "$1" 42588 bd220000 bd220100; }
# "Sub dir" (entry at 42624, DIR_FstClusLO at 42650) points at its own
# parent DIR's cluster 4: a directory cycle.
img_dir_cycle() { img_fat16 "$1"; poke "$1" 42650 1700 0400; }
# "Sub dir"'s cluster 23 (FAT entry at 558) is its own next cluster.
img_dir_chain_loop() { img_fat16 "$1"; poke "$1" 558 ffff 1700; }
# The long name of "Long file name.txt": its last part (entry at 25184)
# has a checksum (byte 25197) that does not match the alias any more.
img_lfn_bad_checksum() { img_fat16 "$1"; poke "$1" 25197 d4 00; }
# The second FAT says data.bin's last cluster (22, entry at 12844) is
# free; the first still ends the chain there.
img_fats_differ() { img_fat16 "$1"; poke "$1" 12844 ffff 0000; }

# Damaged FAT32 volumes (img_fat32's layout: FSInfo at 512, the root is
# cluster 2).
# FSI_Free_Count (byte 1000) says 16 free clusters, there are 66488.
img_fat32_fsinfo_wrong() { img_fat32 "$1"; poke "$1" 1000 b8030100 10000000; }
# BPB_RootClus (byte 44) 0: no root directory.
img_fat32_no_root() { img_fat32 "$1"; poke "$1" 44 02000000 00000000; }
# Not cleanly unmounted: the dirty bit is byte 65 on FAT32.
img_fat32_dirty_bit() { img_fat32 "$1"; poke "$1" 65 00 01; }
