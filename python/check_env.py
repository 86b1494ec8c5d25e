"""Runs Gymnasium's environment checker and a short random rollout (used by the tests)."""
import sys

from gymnasium.utils.env_checker import check_env

from smartserve_gym import SmartServeEnv

args = sys.argv[1:]
env = SmartServeEnv(args)
check_env(env, skip_render_check=True)
obs, info = env.reset(seed=3)
first = obs.tolist()
total, steps, done = 0.0, 0, False
while not done and steps < 2000:
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    total += reward
    steps += 1
    done = terminated or truncated
env.reset(seed=3)
again = env.reset(seed=3)[0].tolist()
env.close()
assert first == again, "same seed, different first observation"
print("check_env passed; %d steps, return %.3f, ended %s" % (steps, total, done))
