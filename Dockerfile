# The proxy as a container image: `docker build -t kafka-auth-proxy .`
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm install --ignore-scripts --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Where the access recorder writes (accessRecording.directory in deploy/compose/proxy.yaml); a
# named volume mounted here takes this owner.
RUN mkdir -p /var/lib/kafka-auth-proxy/recording && chown -R node:node /var/lib/kafka-auth-proxy
USER node
ENTRYPOINT ["node", "--initial-old-space-size=64", "dist/cli.js"]
CMD ["--config", "/etc/kafka-auth-proxy/proxy.yaml"]
