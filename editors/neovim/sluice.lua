-- Sluice language server for Neovim.
--
-- With nvim-lspconfig (Neovim 0.8+): lspconfig has no built-in "sluice" entry, so register it
-- once, then set it up like any other server.
local ok, lspconfig = pcall(require, 'lspconfig')
if ok then
  local configs = require('lspconfig.configs')
  if not configs.sluice then
    configs.sluice = {
      default_config = {
        cmd = { 'sluice', 'lsp' },
        filetypes = { 'sql', 'mysql', 'pgsql' },
        root_dir = lspconfig.util.root_pattern('sluice.toml', '.git'),
        single_file_support = true,
        init_options = { debounceMs = 150 },
      },
      docs = { description = 'Sluice: migration-safety linter for PostgreSQL and MySQL' },
    }
  end
  lspconfig.sluice.setup({})
  return
end

-- Without lspconfig (Neovim 0.8+): start the server for every SQL buffer.
vim.api.nvim_create_autocmd('FileType', {
  pattern = { 'sql', 'mysql', 'pgsql' },
  callback = function(args)
    local root = vim.fs.dirname(vim.fs.find({ 'sluice.toml', '.git' }, { upward = true, path = vim.api.nvim_buf_get_name(args.buf) })[1])
    vim.lsp.start({
      name = 'sluice',
      cmd = { 'sluice', 'lsp' },
      root_dir = root or vim.fn.getcwd(),
      init_options = { debounceMs = 150 },
    })
  end,
})
