//! End-to-end: a real editor (Neovim, headless) runs `sluice lsp`, opens a migration, receives
//! diagnostics, edits the buffer (incremental sync) and receives the updated diagnostics, hovers
//! a statement to see what it locks, and applies a quick fix with the editor's own edit code.
//! Skipped, with a printed "SKIPPED" line, when `nvim` is not installed.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MIGRATION: &str = "-- Ünïcødé comment 😀\n/* é😀 */ CREATE INDEX \"idx_é\" ON users (email);\nALTER TABLE \"tàblé😀\" DROP COLUMN x;\n";

const SCRIPT: &str = r#"
local bin, file, out = os.getenv('SLUICE_BIN'), os.getenv('SLUICE_FILE'), os.getenv('SLUICE_OUT')
local lines = {}
local function snapshot(buf, label)
  local res = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    table.insert(res, string.format('%s %d:%d-%d:%d', tostring(code), d.lnum, d.col, d.end_lnum, d.end_col))
  end
  table.sort(res)
  table.insert(lines, label)
  for _, r in ipairs(res) do table.insert(lines, r) end
end
local function has(buf, rule)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    if code == rule then return true end
  end
  return false
end
vim.cmd('edit ' .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = 'sluice',
  cmd = { bin, 'lsp' },
  root_dir = vim.fn.fnamemodify(file, ':h'),
  init_options = { debounceMs = 0 },
})
vim.lsp.buf_attach_client(buf, id)
local ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
snapshot(buf, ok and 'opened' or 'opened: timeout')
-- Type " CONCURRENTLY" after "CREATE INDEX" (byte column 25 of line 1).
vim.api.nvim_buf_set_text(buf, 1, 25, 1, 25, { ' CONCURRENTLY' })
ok = vim.wait(20000, function() return not has(buf, 'create-index-non-concurrently') end, 20)
vim.wait(200)
snapshot(buf, ok and 'edited' or 'edited: timeout')
-- Hover the ALTER TABLE statement (line 3): what it locks.
vim.api.nvim_win_set_cursor(0, { 3, 6 })
local hover = vim.lsp.buf_request_sync(buf, 'textDocument/hover', vim.lsp.util.make_position_params(), 10000)
local text = ''
for _, r in pairs(hover or {}) do
  local c = r.result and r.result.contents
  if type(c) == 'table' and c.value then text = text .. c.value end
end
table.insert(lines, 'hover: ' .. (text:find('ACCESS EXCLUSIVE', 1, true) and 'ACCESS EXCLUSIVE' or 'missing')
  .. (text:find('tàblé😀', 1, true) and ' on tàblé😀' or ''))
-- The quick fix for drop-without-if-exists, applied by Neovim itself.
-- The line's diagnostics in LSP form, as Neovim's own code_action sends them.
local diags = {}
if vim.lsp.diagnostic.get_line_diagnostics then diags = vim.lsp.diagnostic.get_line_diagnostics(buf, 2) end
local params = {
  textDocument = vim.lsp.util.make_text_document_params(),
  range = { start = { line = 2, character = 0 }, ['end'] = { line = 3, character = 0 } },
  context = { diagnostics = diags },
}
local actions = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000)
local applied = 'none'
for id_, r in pairs(actions or {}) do
  for _, a in ipairs(r.result or {}) do
    if applied == 'none' and a.edit and a.title:find('[drop-without-if-exists]', 1, true) then
      vim.lsp.util.apply_workspace_edit(a.edit, vim.lsp.get_client_by_id(id_).offset_encoding)
      applied = a.title
    end
  end
end
table.insert(lines, 'action: ' .. applied)
ok = vim.wait(20000, function() return not has(buf, 'drop-without-if-exists') end, 20)
vim.wait(200)
snapshot(buf, ok and 'fixed' or 'fixed: timeout')
table.insert(lines, vim.api.nvim_buf_get_lines(buf, 2, 3, false)[1])
local f = io.open(out, 'w')
f:write(table.concat(lines, '\n') .. '\n')
f:close()
vim.lsp.stop_client(id)
vim.wait(3000, function() return vim.lsp.get_client_by_id(id) == nil end, 20)
vim.cmd('qall!')
"#;

fn nvim_available() -> bool {
    Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_nvim(dir: &Path) -> String {
    let script = dir.join("e2e.lua");
    std::fs::write(&script, SCRIPT).unwrap();
    let out = dir.join("out.txt");
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("SLUICE_BIN", env!("CARGO_BIN_EXE_sluice"))
        .env("SLUICE_FILE", dir.join("migrations/V1__index.sql"))
        .env("SLUICE_OUT", &out)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("nvim wrote no results ({e})"))
}

#[test]
fn neovim_shows_diagnostics_hover_and_applies_a_quick_fix_from_sluice_lsp() {
    if !nvim_available() {
        println!("SKIPPED: nvim not installed (apt-get install neovim) - the Neovim end-to-end test did not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    // The server honours sluice.toml exactly like the CLI: these rules are off.
    std::fs::write(
        dir.path().join("sluice.toml"),
        "[rules]\n\"ddl-without-lock-timeout\" = \"off\"\n\"lock-held-during-later-statements\" = \"off\"\n\
         \"statement-timeout-for-long-operation\" = \"off\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("migrations/V1__index.sql"), MIGRATION).unwrap();
    let got = run_nvim(dir.path());
    // Neovim reports byte columns: the server's UTF-16 ranges were converted back by the editor.
    let expected = "opened
create-index-non-concurrently 1:13-1:25
create-without-if-not-exists 1:26-1:34
drop-column 2:38-2:39
drop-without-if-exists 2:38-2:39
edited
create-without-if-not-exists 1:39-1:47
drop-column 2:38-2:39
drop-without-if-exists 2:38-2:39
hover: ACCESS EXCLUSIVE on tàblé😀
action: Add IF EXISTS [drop-without-if-exists]
fixed
create-without-if-not-exists 1:39-1:47
drop-column 2:48-2:49
ALTER TABLE \"tàblé😀\" DROP COLUMN IF EXISTS x;
";
    assert_eq!(got, expected);
}
