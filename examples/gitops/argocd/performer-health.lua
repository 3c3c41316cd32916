-- Argo CD health check for Performers (hourglass.eigenlayer.io/v1alpha1).
-- Install it in argocd-cm as
--   resource.customizations.health.hourglass.eigenlayer.io_Performer
-- (argocd-cm.yaml beside this file holds the same text; a test keeps them equal).
--
-- It reads what the performer function and Crossplane write on the
-- Performer itself: status.phase (Pending, Running, Upgrading, Failed,
-- Terminating) and status.ready (the function: true exactly while the
-- serving revision answers, what the Hourglass executor polls), and the
-- conditions Ready and Synced (Crossplane) and Degraded (the function).
--   Degraded     phase Failed, Degraded=True (image pull, crash loop, no
--                node with the hardware, a failed upgrade, an invalid spec),
--                or Synced=False (Crossplane cannot compose the performer)
--   Healthy      phase Running, status.ready true and Ready=True
--   Progressing  everything else: no status yet, Pending, Upgrading
--                (the old revision keeps serving), Terminating, a spec
--                change Crossplane has not processed yet, or Running while
--                status.ready and the Ready condition do not both say so
local hs = {}

local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c == nil then
    return fallback
  end
  local m = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    if m ~= "" then
      m = m .. ": "
    end
    m = m .. c.message
  end
  if m == "" then
    return fallback
  end
  return m
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Deleting"
  return hs
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for Crossplane to compose the performer"
  return hs
end

local phase = obj.status.phase
local ready = condition("Ready")
local synced = condition("Synced")
local degraded = condition("Degraded")

if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(degraded, "Degraded")
  return hs
end
if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = describe(degraded, "Performer failed")
  return hs
end
if synced ~= nil and synced.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(synced, "Crossplane cannot compose the performer")
  return hs
end

-- A condition older than the performer's generation describes the previous spec.
if ready ~= nil and ready.observedGeneration ~= nil and obj.metadata ~= nil
    and obj.metadata.generation ~= nil and ready.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for Crossplane to process the new spec"
  return hs
end

if phase == "Upgrading" then
  hs.status = "Progressing"
  local target = ""
  if obj.status.target ~= nil and obj.status.target.version ~= nil then
    target = " to " .. obj.status.target.version
  end
  hs.message = "Upgrading" .. target .. "; the current revision keeps serving"
  return hs
end

local answers = obj.status.ready == true
local readyTrue = ready ~= nil and ready.status == "True"
if phase == "Running" and answers and readyTrue then
  hs.status = "Healthy"
  if obj.status.grpcEndpoint ~= nil then
    hs.message = "Serving at " .. obj.status.grpcEndpoint
  else
    hs.message = "Running"
  end
  return hs
end
if phase == "Running" then
  hs.status = "Progressing"
  if not answers then
    hs.message = "Running, but status.ready is not true yet"
  else
    hs.message = "Running: " .. describe(ready, "waiting for the Ready condition")
  end
  return hs
end

hs.status = "Progressing"
if phase ~= nil then
  hs.message = phase .. ": " .. describe(condition("Available"), describe(ready, "waiting for the performer to become ready"))
else
  hs.message = describe(ready, "Waiting for the performer to become ready")
end
return hs
