-- metrics: accuracy, macro-F1, entity spans and span F1 (seqeval's default mode), perplexity,
-- and the MLM helpers nn.mask_tokens and nn.pad_sequences; numbers worked out by hand.
local T = require "tessera.test"

local function ids(t) return tensor.from(t, {dtype = "i64"}) end

-- accuracy: 4 scored pairs (gold -100 skipped), 3 equal
T.eq(metrics.accuracy({0, 1, 2, 1, 0}, {0, 2, 2, 1, -100}), 0.75, "accuracy skips ignored gold")
T.eq(metrics.accuracy(ids{0, 1, 2, 1, 0}, ids{0, 2, 2, 1, -100}), 0.75, "accuracy of tensors")
T.eq(metrics.accuracy({5, 1}, {5, 2}, {ignore_index = 2}), 1, "ignore_index option")
T.ok(metrics.accuracy({1}, {-100}) ~= metrics.accuracy({1}, {-100}), "nothing scored is NaN")
-- logits (3, 2) with gold (3): argmax gives ids 0, 1, 0; first of equal maxima wins, as torch
T.eq(metrics.accuracy(tensor.from{{2, 1}, {0, 3}, {1, 1}}, ids{0, 1, 1}), 2 / 3, "logits are argmaxed")
T.raises(function() metrics.accuracy({1, 2}, {1}) end, "2 predictions but 1 gold labels", "length mismatch")
T.raises(function() metrics.accuracy("x", {1}) end, "bad argument #1 to 'metrics.accuracy'", "bad predictions")
T.raises(function() metrics.accuracy(tensor.from{0.5}, {1}) end, "class ids must be integers", "fractional ids")

-- macro-F1: class 0 F1 2/3, class 1 4/5, class 2 (predicted only) 0, class 3 (gold only) 0
T.near(metrics.macro_f1({0, 0, 1, 1, 2}, {0, 1, 1, 1, 3}), 22 / 60, 1e-12, "macro-F1 over classes in either")
-- a class that appears in neither (here 9) is not averaged in; a class only in ignored gold neither
T.eq(metrics.macro_f1({4, 1, 4}, {4, 1, -100}), 1, "absent classes are left out")
T.near(metrics.macro_f1({0, 0}, {0, 1}), (2 / 3 + 0) / 2, 1e-12, "a class never predicted has F1 0")

-- entities as seqeval's default mode reads them
local function spans(tags)
  local out = {}
  for _, e in ipairs(metrics.entities(tags)) do out[#out + 1] = e.type .. e.first .. "-" .. e.last end
  return out
end
T.eq(spans{"B-PER", "I-PER", "O", "B-LOC"}, {"PER1-2", "LOC4-4"}, "B then I")
T.eq(spans{"O", "I-PER", "I-PER"}, {"PER2-3"}, "I without B starts an entity (conlleval)")
T.eq(spans{"B-LOC", "I-PER"}, {"LOC1-1", "PER2-2"}, "a type change splits")
T.eq(spans{"B-PER", "B-PER"}, {"PER1-1", "PER2-2"}, "B after B starts a new entity")
T.eq(spans{"S-PER", "B-LOC", "E-LOC", "O"}, {"PER1-1", "LOC2-3"}, "IOBES")
T.eq(spans{}, {}, "no tags")

-- span F1: seqeval's README example, MISC found with the wrong start: P = R = F1 = 0.5
local r = metrics.span_f1(
  {{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}},
  {{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}})
T.eq({r.precision, r.recall, r.f1, r.correct, r.predicted, r.gold}, {0.5, 0.5, 0.5, 1, 2, 2}, "seqeval example")
-- 1 correct of 2 predicted and 3 gold: P 1/2, R 1/3, F1 0.4
r = metrics.span_f1({{"B-PER", "I-PER", "O", "O"}, {"B-ORG", "I-ORG"}}, {{"B-PER", "I-PER", "O", "B-LOC"}, {"B-ORG", "O"}})
T.near({r.precision, r.recall, r.f1}, {0.5, 1 / 3, 0.4}, 1e-12, "boundary errors count as wrong")
T.eq(metrics.span_f1({"B-PER", "O"}, {"B-PER", "O"}).f1, 1, "one sentence as a flat table")
T.eq(metrics.span_f1({{"O"}}, {{"O"}}).f1, 0, "no entities: 0")
T.raises(function() metrics.span_f1({{"O"}}, {{"O", "O"}}) end, "sentence 1 has 1 predicted tags but 2 gold tags", "tag count mismatch")
T.raises(function() metrics.span_f1({{"O", 3}}, {{"O", "O"}}) end, "not a tag string", "non-string tag")

-- perplexity: uniform logits over 10 classes give exactly 10
T.near(metrics.perplexity(math.log(20)), 20, 1e-9, "perplexity of a number")
T.near(metrics.perplexity(nn.cross_entropy(tensor.zeros(4, 10), ids{1, 2, 3, 4})), 10, 1e-5, "uniform model")
T.raises(function() metrics.perplexity("x") end, "number expected", "bad loss")

-- pad_sequences: right padding, attention mask, max_length cuts
local batch, mask = nn.pad_sequences({{5, 6, 7}, {8}, ids{9, 10}}, {pad_id = 1})
T.eq(batch, {{5, 6, 7}, {8, 1, 1}, {9, 10, 1}}, "padded ids")
T.eq(mask, {{1, 1, 1}, {1, 0, 0}, {1, 1, 0}}, "attention mask")
T.eq(batch:dtype(), "i64", "ids are i64")
T.eq((nn.pad_sequences({{1, 2, 3}}, {max_length = 2})), {{1, 2}}, "max_length")
T.raises(function() nn.pad_sequences({}) end, "no sequences", "empty batch")
T.raises(function() nn.pad_sequences({{1}, "x"}) end, "sequence 2 is a string", "bad sequence")

-- mask_tokens on a large batch: specials never chosen, labels -100 elsewhere, 15% / 80-10-10
local rows = {}
tensor.manual_seed(5)
local body = tensor.randint(4, 1000, {100, 400}):totable()
for i = 1, 100 do
  local row = {1}
  for j = 1, 400 do row[#row + 1] = body[i][j] end
  row[#row + 1] = 2
  rows[i] = i % 2 == 0 and {table.unpack(row, 1, 300)} or row
end
local input_ids, attention = nn.pad_sequences(rows, {pad_id = 0})
local opts = {mask_id = 3, vocab_size = 1000, special_ids = {0, 1, 2, 3}, attention_mask = attention, seed = 42}
local inputs, labels = nn.mask_tokens(input_ids, opts)
local x, y, orig = inputs:totable(), labels:totable(), input_ids:totable()
local eligible, chosen, masked, kept, bad_special, bad_label, bad_unchosen = 0, 0, 0, 0, 0, 0, 0
for i = 1, #orig do
  for j = 1, #orig[i] do
    local special = orig[i][j] <= 3
    if not special then eligible = eligible + 1 end
    if y[i][j] == -100 then
      if x[i][j] ~= orig[i][j] then bad_unchosen = bad_unchosen + 1 end
    else
      chosen = chosen + 1
      if special then bad_special = bad_special + 1 end
      if y[i][j] ~= orig[i][j] then bad_label = bad_label + 1 end
      if x[i][j] == 3 then masked = masked + 1 elseif x[i][j] == orig[i][j] then kept = kept + 1 end
    end
  end
end
T.eq({bad_special, bad_label, bad_unchosen}, {0, 0, 0}, "specials and padding never chosen; labels are the originals; -100 elsewhere")
T.near(chosen / eligible, 0.15, 0.008, "15% chosen")
T.near(masked / chosen, 0.8, 0.02, "80% of them masked")
T.near(kept / chosen, 0.1, 0.015, "10% kept")
T.near(1 - (masked + kept) / chosen, 0.1, 0.015, "10% random")
local inputs2, labels2 = nn.mask_tokens(input_ids, opts)
T.ok(inputs2:eq(inputs):all() and labels2:eq(labels):all(), "the same seed gives the same batch")
tensor.manual_seed(7)
local a = nn.mask_tokens(input_ids, {mask_id = 3, vocab_size = 1000, special_ids = {0, 1, 2, 3}})
tensor.manual_seed(7)
local b = nn.mask_tokens(input_ids, {mask_id = 3, vocab_size = 1000, special_ids = {0, 1, 2, 3}})
T.ok(a:eq(b):all(), "without seed, tensor.manual_seed fixes the batch")
T.raises(function() nn.mask_tokens(input_ids, {vocab_size = 10}) end, "option 'mask_id' is required", "mask_id required")
T.raises(function() nn.mask_tokens(input_ids, {mask_id = 10, vocab_size = 10}) end, "outside the vocabulary", "mask id out of range")
T.raises(function() nn.mask_tokens(input_ids, {mask_id = 3, vocab_size = 10, probability = 2}) end, "probability must lie in [0, 1]", "bad probability")
T.raises(function() nn.mask_tokens(input_ids, {mask_id = 3, vocab_size = 10, special_ids = 3}) end, "special_ids", "bad specials")

T.summary()
