-- %% [markdown]
-- # Tessera quickstart
--
-- Tensors, autograd and a small model trained from Lua, with every kernel in Swift on OpenBLAS.
-- This file is a notebook in Jupytext's percent format and also a plain Lua script:
--
-- - `scripts/tessera examples/quickstart.lua` runs it as a script;
-- - `tessera run examples/quickstart.lua` runs it cell by cell and writes `quickstart.ipynb` with
--   every output, for Jupyter, VS Code or GitHub to show;
-- - in the REPL (`scripts/tessera`), `%run examples/quickstart.lua` runs it in your session.
--
-- Dimensions and indices count from 1, as everywhere in Lua. With `TESSERA_FAST=1` in the
-- environment the training runs are shortened (the test suite runs every example that way).

-- %% [markdown]
-- ## Tensors
-- A fixed seed makes every number below the same on each run. `tensor.from` builds a tensor from
-- nested tables; reductions take a dimension; `x:t()` is a view that shares memory.

-- %%
local seed = 0
local fast = os.getenv("TESSERA_FAST") ~= nil
tensor.manual_seed(seed)
print("seed " .. seed .. (fast and " (fast mode)" or ""))

local x = tensor.from{{1, 2, 3}, {4, 5, 6}}
print("shape", table.concat(x:shape(), "x"), "sum over dim 2", x:sum(2))
print("x[2][3] =", x[2][3], " x:t() is a view:", x:t():is_contiguous())
display(x)

-- %% [markdown]
-- `display(x)` shows a value with its richest representation: text here, an HTML table in a
-- notebook. A cell's last expression is shown the same way when the notebook runs.
--
-- ## Autograd
-- Mark leaves with `requires_grad(true)`, compute, call `backward()`, read `.grad`.

-- %%
local w = tensor.from{0.5, -1.0, 2.0}:requires_grad(true)
local loss = (w * w):sum() + w:exp():sum()
loss:backward()
print("d/dw (w·w + Σ exp w) =", w.grad, " expected 2w + exp(w) =", w:detach() * 2 + w:detach():exp())

-- %% [markdown]
-- ## A small classifier
-- Points inside the unit circle are class 1. A 2 → 16 → 1 network with tanh, trained by gradient
-- descent on the cross-entropy loss, learns the boundary a linear model cannot. First the data
-- and a training function written with plain tensors:

-- %%
local n = 512
local pts = tensor.randn(n, 2)
local labels = (pts * pts):sum(2):lt(1):to("f32")

local function accuracy(prob)
  return prob:gt(0.5):to("f32"):eq(labels):to("f32"):mean():item()
end

local function train(hidden, steps, lr)
  local W1 = (tensor.randn(2, hidden) * 0.8):requires_grad(true)
  local b1 = tensor.zeros(hidden):requires_grad(true)
  local W2 = (tensor.randn(hidden, 1) * 0.5):requires_grad(true)
  local b2 = tensor.zeros(1):requires_grad(true)
  local params = {W1, b1, W2, b2}
  local prob
  for step = 1, steps do
    prob = pts:matmul(W1):add(b1):tanh():matmul(W2):add(b2):squeeze(2):sigmoid()
    local eps = 1e-6
    local loss = -(labels * (prob + eps):log() + (1 - labels) * (1 - prob + eps):log()):mean()
    loss:backward()
    tensor.no_grad(function()
      for _, p in ipairs(params) do
        p:copy_(p - p.grad * lr)
        p.grad = nil
      end
    end)
    if step % (steps // 4) == 0 then
      print(string.format("  step %4d  loss %.4f  accuracy %.3f", step, loss:item(), accuracy(prob)))
    end
  end
  return accuracy(prob)
end

-- %% [markdown]
-- Then the comparison: one hidden unit cannot draw a circle, sixteen can.

-- %%
local steps = fast and 40 or 400
print("linear model (no hidden layer worth the name):")
local linear = train(1, steps, 0.5)
print("two-layer network, 16 hidden units:")
local mlp = train(16, steps, 0.5)
print(string.format("accuracy: 1 hidden unit %.3f, 16 hidden units %.3f", linear, mlp))

-- %% [markdown]
-- ## The same with `nn` and `nn.fit`
-- Layers are modules with named parameters; `nn.fit` runs the training loop in Swift (forward,
-- backward, optimizer step) and returns a history to plot. On a terminal it draws a progress
-- bar; in a notebook it prints a few lines.

-- %%
tensor.manual_seed(seed)
local model = nn.Sequential{nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)}
print(model)
local classes = labels:to("i64")
local history = nn.fit{
  model = model, optimizer = optim.AdamW(model, {lr = 0.05}), steps = fast and 30 or 300,
  data = {{x = pts, y = classes}},
  loss = function(m, batch) return nn.cross_entropy(m(batch.x), batch.y) end,
  eval = function(m) return {accuracy = metrics.accuracy(m(pts), classes)} end, eval_every = fast and 10 or 50,
}
print(string.format("final loss %.4f, accuracy %.3f", history.loss[#history.loss], history.eval[#history.eval].accuracy))

-- %% [markdown]
-- A plot is a value like any other: `display(p)` (or `print(p)`) draws it with Unicode
-- characters in a terminal and as an SVG image in a notebook; `p:save("loss.svg")` writes the file.

-- %%
local p = plot.line(history, {y = "loss", title = "nn.fit on the circle", xlabel = "step", ylabel = "cross-entropy", logy = true})
display(p)

-- %% [markdown]
-- ## Where next
-- - `help("nn")` lists the layers, losses and `nn.fit`, the training loop that runs in Swift;
--   `help(nn.fit)` shows an example whose history displays as a table.
-- - `help("tensor")` and `help("Tensor")` list the tensor functions and methods.
-- - `help("models")`, `help("tokenizers")` and `help("data")`: pretrained checkpoints (after
--   `scripts/fetch-assets`: MiniLM, SmolLM2, multilingual e5), their tokenizers, and CoNLL-U,
--   text, TSV and JSONL corpora.
-- - `help("plot")` for line, scatter, bar, histogram and heatmap plots.
-- - In the REPL, `%help` lists the commands, and `%save session.ipynb` keeps what you did with
--   its outputs.
