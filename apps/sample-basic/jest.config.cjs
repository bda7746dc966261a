module.exports = require('@mqtt5/jest-config').createConfig(__dirname);
