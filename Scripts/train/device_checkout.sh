#!/usr/bin/env bash
# Makes a `device` call (the lent accelerator) carry only Scripts/ and the burst bundle, then puts everything back.
# A call carries the working tree's tracked and untracked-not-ignored files, at most 64 MiB with `carry`; the tracked
# files alone are ~78 MB (test fixtures, the shipped models). `slim` empties the index (the files stay on disk) and
# ignores every top-level path but Scripts/; `restore` puts the saved index and exclude file back. Nothing else may
# touch git in between (a commit then would delete everything).
#   bash Scripts/train/device_checkout.sh slim      # then: device run … carry [".devburst"]
#   bash Scripts/train/device_checkout.sh restore
set -euo pipefail
root=$(git rev-parse --show-toplevel)
git_dir=$(git rev-parse --absolute-git-dir)
case "${1:-}" in
  slim)
    [ ! -e "$git_dir/index.pre-burst" ] || { echo "device_checkout.sh: already slim; run restore first" >&2; exit 1; }
    cp "$git_dir/index" "$git_dir/index.pre-burst"
    cp "$git_dir/info/exclude" "$git_dir/info/exclude.pre-burst"
    printf '/*\n!/Scripts/\n' >> "$git_dir/info/exclude"
    git -C "$root" rm -r -q --cached .
    bytes=$(cd "$root" && git ls-files --others --exclude-standard -z | xargs -0 cat | wc -c)
    echo "slim: $bytes bytes of Scripts/ travel, plus what carry names (.devburst: $(du -sm "$root/.devburst" 2>/dev/null | cut -f1) MiB)"
    ;;
  restore)
    [ -e "$git_dir/index.pre-burst" ] || { echo "device_checkout.sh: nothing to restore" >&2; exit 1; }
    mv "$git_dir/index.pre-burst" "$git_dir/index"
    mv "$git_dir/info/exclude.pre-burst" "$git_dir/info/exclude"
    git -C "$root" status --short
    ;;
  *) echo "usage: device_checkout.sh slim|restore" >&2; exit 64 ;;
esac
