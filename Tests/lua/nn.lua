-- nn: layers and models from Lua, the Module methods (parameters, freezing, state dicts, hooks,
-- submodules), losses, and the errors bad arguments give.
local T = require "tessera.test"

local function ids(t) return tensor.from(t, {dtype = "i64"}) end
local function same(a, b) return a:eq(b):all() end

tensor.manual_seed(0)

-- constructors and printing
local lin = nn.Linear(4, 2)
T.ok(tostring(lin):find("Linear(4 -> 2)", 1, true), "tostring shows the layer")
T.ok(tostring(lin):find("10 parameters", 1, true), "tostring counts parameters")
T.eq(lin:type(), "Linear", "type()")
T.eq(getmetatable(lin), "module", "the metatable is hidden")
T.eq(nn.Linear(3, 5, {bias = false}):num_parameters(), 15, "bias = false")
local mlp = nn.Sequential{nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)}
T.eq(mlp(tensor.randn(3, 4)):shape(), {3, 2}, "Sequential forward")
T.eq(mlp:forward(tensor.randn(1, 4)):shape(), {1, 2}, "m:forward is m()")
T.ok(tostring(mlp):find("0: Linear(4 -> 8)", 1, true), "Sequential prints its children")
T.eq(mlp:named_modules(), {"", "0", "1", "2"}, "named_modules")
T.ok(mlp["0"] == mlp:module("0"), "m.child is m:module(child), and modules compare by identity")
T.eq(mlp.no_such_child, nil, "a missing child is nil")

-- parameters share memory with the module
local p = lin:parameters()
p.weight:fill_(1)
p.bias:fill_(0.5)
T.eq(lin(tensor.ones(1, 4)):totable(), {{4.5, 4.5}}, "filling parameters() changes the module")
local np = mlp:named_parameters()
T.eq(#np, 4, "named_parameters lists every parameter")
T.eq(np[1][1], "0.bias", "sorted by name")
T.eq(np[4][1], "2.weight", "sorted by name (last)")
T.eq(mlp:num_parameters(), 4 * 8 + 8 + 8 * 2 + 2, "num_parameters")

-- freezing
T.eq(mlp:freeze("0"), {"0.weight", "0.bias"}, "freeze returns the names it froze")
T.eq(mlp:num_parameters(true), 8 * 2 + 2, "num_parameters(true) counts trainable ones")
local trainable = {}
for name in pairs(mlp:trainable_parameters()) do trainable[#trainable + 1] = name end
table.sort(trainable)
T.eq(trainable, {"2.bias", "2.weight"}, "trainable_parameters")
T.ok(tostring(mlp):find("(frozen)", 1, true), "printing marks frozen tensors")
T.eq(mlp:parameters()["0.weight"]:requires_grad(), false, "frozen parameters need no grad")
T.eq(#mlp:unfreeze(), 4, "unfreeze() selects all")
T.raises(function() mlp:freeze("nope") end, "freeze: no parameter matches 'nope'", "a pattern that selects nothing")

-- gradients and zero_grad
mlp(tensor.randn(2, 4)):sum():backward()
T.ok(mlp:parameters()["2.weight"].grad ~= nil, "backward reaches the parameters")
mlp:zero_grad()
T.eq(mlp:parameters()["2.weight"].grad, nil, "zero_grad clears gradients")

-- train / eval
local drop = nn.Dropout(0.5)
T.ok(drop:eval() == drop, "eval returns the module")
T.eq(drop:is_training(), false, "eval mode")
T.eq(drop(tensor.ones(8)):totable(), tensor.ones(8):totable(), "Dropout is the identity in eval mode")
T.eq(drop:train():is_training(), true, "train mode")
local dropped = drop(tensor.ones(1000))
T.ok(dropped:eq(0):any() and dropped:eq(2):any(), "Dropout zeroes and rescales in training")

-- state_dict round trip
local a, b = nn.Linear(3, 2), nn.Linear(3, 2)
local snapshot = {}
for k, v in pairs(a:state_dict()) do snapshot[k] = v:clone() end
a:parameters().weight:fill_(7)
local report = b:load_state_dict(snapshot)
T.eq(#report.loaded, 2, "every tensor loaded")
T.eq(#report.missing + #report.unexpected + #report.mismatched, 0, "a clean report")
T.ok(same(b:parameters().weight, snapshot.weight), "load_state_dict copies values")
a:load_state_dict(b:state_dict())
T.ok(same(a:parameters().weight, snapshot.weight), "the round trip restores the weights")

-- load_state_dict with a mismatched shape, a missing and an unexpected key
local bad = {weight = tensor.zeros(5, 3), extra = tensor.zeros(1)}
T.raises(function() b:load_state_dict(bad) end, "does not fit Linear", "strict loading refuses")
T.ok(same(b:parameters().weight, snapshot.weight), "strict loading copied nothing")
report = b:load_state_dict(bad, {strict = false})
T.eq(report.missing, {"bias"}, "missing keys")
T.eq(report.unexpected, {"extra"}, "unexpected keys")
T.eq(#report.mismatched, 1, "one mismatched tensor")
T.eq(report.mismatched[1], {name = "weight", expected = {2, 3}, got = {5, 3}}, "mismatched names both shapes")
T.raises(function() b:load_state_dict({weight = 1}) end, "'weight' holds a number, not a tensor", "a non-tensor value")
T.raises(function() b:load_state_dict(snapshot, {stric = true}) end, "unknown option 'stric'", "a misspelt option")

-- hooks
local seen = {}
local h = mlp:add_hook("*", function(name, out) seen[#seen + 1] = name .. ":" .. out:size(-1) end)
T.eq(h.count, 4, "the hook watches the model and its three children")
mlp(tensor.randn(1, 4))
T.eq(seen, {"0:8", "1:8", "2:2", ":2"}, "hooks see each module's name and output")
h:remove()
h:remove()
seen = {}
mlp(tensor.randn(1, 4))
T.eq(#seen, 0, "a removed hook is not called")
local h2 = mlp:add_hook("1", function() error("stop here") end)
T.raises(function() mlp(tensor.randn(1, 4)) end, "stop here", "a hook's error stops the forward pass")
h2:remove()
T.eq(mlp(tensor.randn(1, 4)):shape(), {1, 2}, "the model works after a failing hook")
T.raises(function() mlp:add_hook("zz", print) end, "no module matches 'zz'", "a hook pattern that selects nothing")
T.raises(function() mlp:add_hook("*", 1) end, "bad argument #3 to 'add_hook' (function expected, got number)", "hook type")
local co = coroutine.wrap(function()
  local names = {}
  local hc = mlp:add_hook("2", function(name) names[#names + 1] = name; coroutine.yield("inside") end)
  T.raises(function() mlp(tensor.randn(1, 4)) end, "yield across", "a hook may not yield")
  hc:remove()
  return names[1]
end)
T.eq(co(), "2", "hooks run inside coroutines")

-- module and replace
local old = mlp:replace("1", nn.GELU())
T.eq(old:type(), "ReLU", "replace returns the old module")
T.eq(mlp:module("1"):type(), "GELU", "the new module is in place")
T.raises(function() mlp:module("9") end, "no submodule '9'", "module of a missing path")
T.raises(function() mlp:replace("9", nn.ReLU()) end, "no submodule '9'", "replace of a missing path")
T.raises(function() mlp.x = 1 end, "cannot set field 'x' of a module", "assigning to a module")

-- Embedding: token ids are 0-based data
local emb = nn.Embedding(10, 4, {padding_idx = 0})
local e = emb(ids{{0, 9}})
T.eq(e:shape(), {1, 2, 4}, "Embedding output shape")
T.eq(e[1][1]:abs():sum():item(), 0, "the padding row (id 0) is zero")
T.raises(function() emb(ids{{10}}) end, "10", "id 10 is outside a vocabulary of 10")
T.raises(function() nn.Embedding(10, 4, {padding_idx = 10}) end, "padding index 10 out of range", "padding_idx range")

-- norms, activations, feed-forward
T.near(nn.LayerNorm(3)(tensor.from{{1, 2, 3}}):mean():item(), 0, 1e-6, "LayerNorm centres")
T.near(nn.RMSNorm(2, {eps = 0})(tensor.from{{3, 4}}), {{3 / math.sqrt(12.5), 4 / math.sqrt(12.5)}}, 1e-5, "RMSNorm")
T.near(nn.SiLU()(tensor.from{0}):item(), 0, 0, "SiLU")
T.near(nn.GELU{approximate = "tanh"}(tensor.from{1}):item(), 0.8412, 1e-3, "GELU tanh")
T.eq(nn.FeedForward(4, 8, {kind = "swiglu"}):num_parameters(), 3 * 4 * 8, "SwiGLU has three bias-free matrices")

-- attention
local attn = nn.MultiHeadAttention(8, 2, {causal = true, rope = true})
local x = tensor.randn(2, 3, 8)
local y, probs = attn(x, {return_probabilities = true})
T.eq(y:shape(), {2, 3, 8}, "attention output")
T.eq(probs:shape(), {2, 2, 3, 3}, "attention probabilities")
T.near(probs[1][1][1], {1, 0, 0}, 1e-6, "causal: the first query sees only itself")
local _, p2 = attn(x, {causal = false, return_probabilities = true, attention_mask = ids{{1, 1, 0}, {1, 1, 1}}})
T.near(p2[1][1][1][3], 0, 1e-7, "a masked key gets no attention")
T.eq(nn.MultiHeadAttention(8, 4, {kv_heads = 2}):parameters()["key.weight"]:shape(), {4, 8}, "grouped-query key projection")

-- encoder and decoder models (config tables with config.json keys)
local config = {vocab_size = 30, hidden_size = 8, num_hidden_layers = 2, num_attention_heads = 2,
                intermediate_size = 16, hidden_dropout_prob = 0, attention_probs_dropout_prob = 0,
                architectures = {"BertModel"}}
local enc = nn.Encoder(config)
local tok = ids{{2, 5, 7, 0}, {3, 4, 0, 0}}
local out = enc(tok, {attention_mask = ids{{1, 1, 1, 0}, {1, 1, 0, 0}}, return_attentions = true})
T.eq(out.last_hidden_state:shape(), {2, 4, 8}, "last_hidden_state")
T.eq(#out.hidden_states, 3, "embeddings plus one state per layer")
T.eq(#out.attentions, 2, "one attention map per layer")
T.eq(out.pooled:shape(), {2, 8}, "pooled")
T.eq(nn.Encoder(config, {pooler = false})(tok).pooled, nil, "no pooler")
T.ok(enc:parameters()["encoder.layer.0.attention.self.query.weight"] ~= nil, "HF parameter names")
local mlm = nn.EncoderForMaskedLM(config)
local logits, mout = mlm(tok)
T.eq(logits:shape(), {2, 4, 30}, "masked LM logits")
T.eq(mout.last_hidden_state:shape(), {2, 4, 8}, "masked LM also returns the encoder output")
T.eq(nn.EncoderForTokenClassification(config, 5)(tok):shape(), {2, 4, 5}, "token classification logits")
local cls = nn.EncoderForSequenceClassification(config, 3)
T.eq(cls(tok, {token_type_ids = tensor.zeros(2, 4, {dtype = "i64"})}):shape(), {2, 3}, "sequence classification logits")
local dec_config = {vocab_size = 30, hidden_size = 8, num_hidden_layers = 1, num_attention_heads = 2,
                    num_key_value_heads = 1, intermediate_size = 16, tie_word_embeddings = true}
local lm = nn.DecoderForCausalLM(dec_config)
local lm_logits, dout = lm(tok, {return_attentions = true})
T.eq(lm_logits:shape(), {2, 4, 30}, "causal LM logits")
T.eq(#dout.attentions, 1, "decoder attentions")
T.near(dout.attentions[1][1][1][1], {1, 0, 0, 0}, 1e-6, "the decoder is causal")
T.eq(nn.Decoder(dec_config)(tok).last_hidden_state:shape(), {2, 4, 8}, "Decoder")
T.raises(function() nn.Encoder({hidden_size = 8}) end, "config has no 'vocab_size'", "a config without a required key")
T.raises(function() nn.Encoder({vocab_size = "x"}) end, "config key 'vocab_size' must be an integer", "a config value of the wrong type")
T.raises(function() nn.Decoder(setmetatable({}, {})) end, "config has no", "an empty config")
T.raises(function() nn.Decoder(42) end, "bad argument #1 to 'nn.Decoder' (config table expected", "a config that is not a table")
T.raises(function() enc(tok, {attention_masks = tok}) end, "unknown option 'attention_masks'", "a misspelt forward option")
T.raises(function() enc(tensor.randn(2, 4)) end, "expects integer token ids", "float ids")

-- losses: class ids are 0-based data
T.near(nn.cross_entropy(tensor.zeros(2, 4), ids{0, 3}):item(), math.log(4), 1e-6, "uniform logits give log(C)")
T.near(nn.cross_entropy(tensor.zeros(2, 4), {0, 3}):item(), math.log(4), 1e-6, "targets as a Lua table")
local lg = tensor.from{{5, 0, 0}, {0, 0, 5}}
T.ok(nn.cross_entropy(lg, ids{0, 2}):item() < 0.02, "0-based targets name the large logits")
T.eq(nn.cross_entropy(lg, ids{0, -100}, {reduction = "none"}):shape(), {2}, "reduction none")
T.near(nn.cross_entropy(lg, ids{0, -100}, {reduction = "none"})[2], 0, 0, "ignore_index -100 counts nothing")
T.near(nn.cross_entropy(lg, ids{0, 7}, {ignore_index = 7}), nn.cross_entropy(lg:narrow(1, 1, 1), ids{0}), 1e-6, "ignore_index")
T.ok(nn.cross_entropy(lg, ids{0, 2}, {label_smoothing = 0.1}):item() > 0.1, "label smoothing raises the loss")
T.eq((lg:argmax(2) - 1):totable(), {0, 2}, "argmax - 1 gives the class ids")
T.raises(function() nn.cross_entropy(lg, ids{0, 3}) end, "target 3 out of range for 3 classes", "a class id past the end")
T.raises(function() nn.cross_entropy(lg, ids{0, 1}, {reduction = "avg"}) end, "option 'reduction' must be \"mean\" (default), \"sum\" or \"none\"", "bad reduction")
T.raises(function() nn.cross_entropy(lg, ids{0, 1}, {ignore = 1}) end, "bad argument #3 to 'nn.cross_entropy' (unknown option 'ignore'", "unknown loss option")
T.near(nn.mse_loss(tensor.from{1, 2, 3}, tensor.from{1, 2, 5}):item(), 4 / 3, 1e-6, "mse_loss")
T.near(nn.mse_loss(tensor.from{1, 2}, tensor.from{0, 0}, {reduction = "sum"}):item(), 5, 1e-6, "mse_loss sum")
T.raises(function() nn.mse_loss(tensor.zeros(2), tensor.zeros(3)) end, "nn.mse_loss: prediction has shape 2, target 3", "mse shapes")
local s_logits, t_logits = tensor.from{{1, 2, 3}}, tensor.from{{3, 1, 0}}
T.near(nn.kl_div(s_logits, s_logits, {temperature = 2}):item(), 0, 1e-6, "KL of equal distributions is 0")
T.ok(nn.kl_div(s_logits, t_logits):item() > 0, "KL of different distributions is positive")
T.near(nn.soft_cross_entropy(s_logits, t_logits) - nn.kl_div(s_logits, t_logits),
       -(t_logits:softmax(2) * t_logits:log_softmax(2)):sum(), 1e-5, "soft CE = KL + teacher entropy")
T.raises(function() nn.kl_div(s_logits, t_logits, {temperature = 0}) end, "temperature must be positive", "temperature")

-- bad arguments
T.raises(function() nn.Linear(4) end, "bad argument #2 to 'nn.Linear' (integer expected, got no value)", "missing size")
T.raises(function() nn.Linear(0, 2) end, "bad argument #1 to 'nn.Linear' (positive integer expected, got 0)", "zero size")
T.raises(function() nn.Linear(2, 2, {bais = false}) end, "unknown option 'bais'; expected one of: bias", "unknown option")
T.raises(function() nn.Linear(2, 2, {bias = 1}) end, "option 'bias' must be a boolean", "option type")
T.raises(function() nn.Sequential{nn.ReLU(), 3} end, "element 2 is a number, not a module", "Sequential of a non-module")
T.raises(function() nn.FeedForward(4, 8, {kind = "relu"}) end, "option 'kind' must be \"gelu\" or \"swiglu\"", "FeedForward kind")
T.raises(function() nn.MultiHeadAttention(8, 3) end, "does not split into 3 heads", "heads that do not divide dim")
T.raises(function() nn.Dropout(2) end, "nn.Dropout: probability must lie in [0, 1], got 2.0", "dropout probability")
T.raises(function() lin(tensor.ones(1, 3)) end, "expects input (..., 4), got 1x3", "Linear input size")
T.raises(function() lin(tensor.ones(1, 4), {}) end, "Linear takes one input tensor", "options to a plain layer")
T.raises(function() lin("x") end, "bad argument #2 to 'forward' (tensor expected, got string)", "forward of a string")
T.raises(function() lin.freeze() end, "bad argument #1 to 'freeze' (module expected, got no value)", "m.freeze()")
T.raises(function() lin:freeze(1) end, "bad argument #2 to 'freeze' (string expected, got number)", "freeze pattern type")
T.raises(function() tensor.zeros(1):matmul(lin) end, "tensor expected, got module", "a module where a tensor belongs")
T.raises(function() lin:to("i64") end, "floating-point dtype expected", "to an integer dtype")
T.eq(lin:to("f64"):parameters().weight:dtype(), "f64", "to f64")

T.summary()
