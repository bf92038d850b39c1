-- Neovim 0.7 (no vim.lsp.start): start one client and attach every SQL buffer to it.
-- This is what cli/tests/lsp_neovim.rs does.
local client_id
vim.api.nvim_create_autocmd('FileType', {
  pattern = { 'sql', 'mysql', 'pgsql' },
  callback = function(args)
    if not client_id or not vim.lsp.get_client_by_id(client_id) then
      client_id = vim.lsp.start_client({
        name = 'sluice',
        cmd = { 'sluice', 'lsp' },
        root_dir = vim.fn.getcwd(),
        init_options = { debounceMs = 150 },
      })
    end
    vim.lsp.buf_attach_client(args.buf, client_id)
  end,
})
